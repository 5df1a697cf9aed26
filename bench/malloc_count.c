// Counts heap allocations, for `beetlewatch bench parse` (allocations per line).
// Built and preloaded by scripts/bench: LD_PRELOAD=bench/malloc_count.so
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

static _Atomic uint64_t allocations;
static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static int (*real_posix_memalign)(void **, size_t, size_t);

uint64_t bw_malloc_count(void) { return atomic_load(&allocations); }

void *malloc(size_t size) {
    if (!real_malloc) real_malloc = dlsym(RTLD_NEXT, "malloc");
    atomic_fetch_add(&allocations, 1);
    return real_malloc(size);
}

static char arena[4096];
static size_t arena_used;

void *realloc(void *p, size_t size) {
    if (!real_realloc) real_realloc = dlsym(RTLD_NEXT, "realloc");
    atomic_fetch_add(&allocations, 1);
    if ((char *)p >= arena && (char *)p < arena + sizeof arena) {
        // Moved out of the bootstrap arena: copy what can have been there.
        char *q = malloc(size);
        size_t available = (size_t)(arena + sizeof arena - (char *)p);
        for (size_t i = 0; q && i < size && i < available; i++) q[i] = ((char *)p)[i];
        return q;
    }
    return real_realloc(p, size);
}

int posix_memalign(void **p, size_t alignment, size_t size) {
    if (!real_posix_memalign) real_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
    atomic_fetch_add(&allocations, 1);
    return real_posix_memalign(p, alignment, size);
}

// dlsym itself may calloc: serve those first calls from a small static arena.
void *calloc(size_t n, size_t size) {
    if (!real_calloc) {
        size_t bytes = (n * size + 15) & ~(size_t)15;
        if (arena_used + bytes > sizeof arena) return NULL;
        void *p = arena + arena_used;
        arena_used += bytes;
        return p;
    }
    atomic_fetch_add(&allocations, 1);
    return real_calloc(n, size);
}

static void (*real_free)(void *);
void free(void *p) {
    if ((char *)p >= arena && (char *)p < arena + sizeof arena) return;
    if (!real_free) real_free = dlsym(RTLD_NEXT, "free");
    real_free(p);
}

__attribute__((constructor)) static void init(void) { real_calloc = dlsym(RTLD_NEXT, "calloc"); }
