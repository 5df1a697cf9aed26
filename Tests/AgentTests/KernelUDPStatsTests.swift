import Testing
@testable import Agent

@Suite(.timeLimit(.minutes(1))) struct KernelUDPStatsTests {
    @Test func findsTheDropsColumnByInode() {
        let table = """
           sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops            
          123: 0100007F:1FBD 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4242 2 0000000000000000 17         
          124: 0100007F:1FBE 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 5151 2 0000000000000000 0          
        """
        #expect(KernelUDPStats.drops(inode: 4242, table: table) == 17)
        #expect(KernelUDPStats.drops(inode: 5151, table: table) == 0)
        #expect(KernelUDPStats.drops(inode: 9999, table: table) == nil)
    }
}
