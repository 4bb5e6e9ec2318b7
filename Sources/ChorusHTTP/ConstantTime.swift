/// Compares two secrets (bearer tokens, API keys) without stopping at the first difference, so a
/// response's timing does not reveal how much of a guess was right. The length difference is
/// folded in, not returned early.
public func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    var difference = UInt8(x.count == y.count ? 0 : 1)
    for i in 0..<max(x.count, y.count) {
        difference |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
    }
    return difference == 0
}
