import Foundation
import Logging
import Synchronization

/// The level every `chorusd run` logger obeys, shared so that SIGHUP can change it for loggers
/// made long before (each `Logger` holds its own copy of its handler, so a level stored in the
/// handler could never be changed from outside).
final class LogLevelSwitch: Sendable {
    private let level: Mutex<Logger.Level>

    init(_ level: Logger.Level) { self.level = Mutex(level) }

    var current: Logger.Level {
        get { level.withLock { $0 } }
        set { level.withLock { $0 = newValue } }
    }
}

/// `chorusd run`'s log handler: text (swift-log's stderr format) or one JSON object per line on
/// stderr, and each line also in the JSON-lines log file when there is one.
struct DaemonLogHandler: LogHandler {
    enum Format: String, Sendable { case text, json }

    let label: String
    let format: Format
    let levels: LogLevelSwitch
    let file: JSONLogFile?
    private var text: StreamLogHandler
    /// A level set on one logger (`logger.logLevel = …`) holds for that logger only; the others
    /// follow the switch.
    private var ownLevel: Logger.Level?
    var metadata: Logger.Metadata = [:] {
        didSet { text.metadata = metadata }
    }
    var metadataProvider: Logger.MetadataProvider? {
        didSet { text.metadataProvider = metadataProvider }
    }

    init(label: String, format: Format, levels: LogLevelSwitch, file: JSONLogFile?) {
        self.label = label
        self.format = format
        self.levels = levels
        self.file = file
        text = StreamLogHandler.standardError(label: label)
        text.logLevel = .trace
    }

    var logLevel: Logger.Level {
        get { ownLevel ?? levels.current }
        set { ownLevel = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        guard format == .json || file != nil else { return text.log(event: event) }
        let line = Self.jsonLine(event, label: label, metadata: metadata)
        if format == .json { FileHandle.standardError.write(line) } else { text.log(event: event) }
        file?.append(line)
    }

    /// `{"label": …, "level": …, "message": …, "ts": …, <metadata>…}` and a newline, keys sorted.
    static func jsonLine(_ event: LogEvent, label: String, metadata: Logger.Metadata) -> Data {
        var object: [String: String] = [:]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            object[key] = "\(value)"
        }
        object["ts"] = Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))  // UTC, "Z"
        object["level"] = event.level.rawValue
        object["label"] = label
        object["message"] = "\(event.message)"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // [String: String] always encodes.
        let data = (try? encoder.encode(object)) ?? Data("{}".utf8)
        return data + Data([0x0a])
    }
}
