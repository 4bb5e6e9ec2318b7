import Foundation

/// Sizes and durations as progress lines show them.
enum ByteCount {
    /// `90.2 MB` (decimal units, as `ls -lh --si` and download tools print them).
    static func text(_ bytes: Int) -> String {
        let units = ["B", "kB", "MB", "GB", "TB"]
        var value = Double(bytes), unit = 0
        while value >= 1000, unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f", value) + " " + units[unit]
    }

    /// Seconds with one decimal.
    static func seconds(_ duration: Duration) -> String {
        let c = duration.components
        return String(format: "%.1f", Double(c.seconds) + Double(c.attoseconds) * 1e-18)
    }
}
