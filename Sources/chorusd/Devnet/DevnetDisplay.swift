import Foundation

/// Where the devnet's table goes. On a terminal the table is redrawn in place each refresh (the
/// cursor moves back up over the previous table, which is cleared), so the screen holds one table;
/// lines wider than the terminal count as the rows they wrap onto.
/// Elsewhere (a pipe, a file) nothing is redrawn: the header is printed once and every refresh
/// appends its rows, each prefixed with the seconds since the start, so the output reads as a log.
struct DevnetDisplay {
    let isTerminal: Bool
    private var linesOnScreen = 0
    private var headerPrinted: String?

    init(isTerminal: Bool = isatty(STDOUT_FILENO) == 1) {
        self.isTerminal = isTerminal
    }

    mutating func show(_ table: DevnetTable, elapsed: Duration) {
        let lines = table.lines
        var text = ""
        if isTerminal {
            let width = Self.terminalWidth()
            // ESC[nF: to the start of the line n lines up; ESC[J: clear from there to the end of the screen.
            if linesOnScreen > 0 { text += "\u{1B}[\(linesOnScreen)F\u{1B}[J" }
            for line in lines { text += line + "\n" }
            // A line wider than the terminal wraps onto further rows, which the next redraw must clear too.
            linesOnScreen = lines.reduce(0) { $0 + max(1, ($1.count + width - 1) / width) }
        } else {
            let seconds = Int(elapsed.components.seconds)
            let header = "t(s)  " + (lines.first ?? "")
            if headerPrinted != header {
                text += header + "\n"
                headerPrinted = header
            }
            for line in lines.dropFirst() { text += DevnetTable.pad("\(seconds)", 4, alignRight: true) + "  " + line + "\n" }
        }
        print(text, terminator: "")
        fflush(nil)  // all streams: stdout is a pipe or a file here as often as a terminal
    }

    /// Columns of the terminal on stdout (80 when it does not say).
    static func terminalWidth() -> Int {
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }
}
