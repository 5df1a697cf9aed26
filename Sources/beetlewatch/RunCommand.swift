import Agent
import ArgumentParser
import Config
import Dispatch
import Foundation
import Logging

/// Runs the agent (the default command).
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the agent: receive StatsD, serve /metrics.",
        discussion: SettingsArguments.settingsHelp
    )

    @OptionGroup var settings: SettingsArguments

    func run() throws {
        // A SIGHUP before the reload handler is in place must not end the process (its default action).
        signal(SIGHUP, SIG_IGN)
        let config: AgentConfig
        let flags: [String: String]
        let configFile = settings.configFile
        do {
            flags = try settings.flagValues()
            config = try SettingsArguments.load(flags: flags, configFile: configFile)
        } catch {
            FileHandle.standardError.write(Data("beetlewatch: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let logger = LogSetup.bootstrapped(level: config.logLevel)
        for variable in ConfigLoader.unknownVariables(in: ProcessInfo.processInfo.environment) {
            logger.warning("ignoring unknown environment variable", metadata: ["variable": "\(variable)"])
        }
        let agent: Agent
        do {
            agent = try Agent(
                config: config, logger: logger,
                configSource: {
                    try SettingsArguments.load(flags: flags, configFile: configFile)
                })
        } catch let error as ConfigError {
            logger.critical("cannot start", metadata: ["error": "\(error)"])
            throw ExitCode(2)
        } catch {
            logger.critical("cannot start", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
        // A client that goes away mid-response must not kill the agent.
        signal(SIGPIPE, SIG_IGN)
        // SIGHUP re-reads the configuration.
        let hangup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        hangup.setEventHandler { agent.reload(trigger: "SIGHUP") }
        hangup.resume()
        agent.start()
        SignalWaiter.waitForTermination()
        hangup.cancel()
        logger.info("shutting down")
        agent.stop()
    }
}

enum SignalWaiter {
    /// Blocks until SIGTERM or SIGINT.
    static func waitForTermination() {
        let done = DispatchSemaphore(value: 0)
        var sources: [DispatchSourceSignal] = []
        for signalNumber in [SIGTERM, SIGINT] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { done.signal() }
            source.resume()
            sources.append(source)
        }
        done.wait()
        sources.forEach { $0.cancel() }
    }
}

enum LogSetup {
    /// Bootstraps swift-log once, on standard error, at `level`.
    static func bootstrapped(level: LogLevel) -> Logger {
        LoggingSystem.bootstrap(StandardErrorLogHandler.init(label:))
        var logger = Logger(label: "beetlewatch")
        logger.logLevel = Logger.Level(rawValue: level.rawValue) ?? .info
        return logger
    }
}
