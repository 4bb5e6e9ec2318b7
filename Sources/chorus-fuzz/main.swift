// chorus-fuzz TARGET [libFuzzer flags and corpus directories...]
// chorus-fuzz --list
// chorus-fuzz --seeds TARGET DIR      (writes the target's seed inputs into DIR)
//
// Built with `-sanitize=fuzzer` (Tools/fuzz.sh) it runs libFuzzer on TARGET; in a plain build it
// replays the files (and the files of the directories) given after TARGET.
import CFuzzerDriver
import ChorusFuzzTargets
import Foundation
#if canImport(Glibc)
import Glibc
#endif

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(2)
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    fail("usage: chorus-fuzz TARGET [libFuzzer arguments | files...] | --list | --seeds TARGET DIR")
}

if arguments[1] == "--list" {
    for target in FuzzTargets.all { print("\(target.name)\t\(target.summary)") }
    exit(0)
}

if arguments[1] == "--seeds" {
    guard arguments.count == 4, FuzzTargets.named(arguments[2]) != nil else { fail("usage: chorus-fuzz --seeds TARGET DIR") }
    let directory = URL(fileURLWithPath: arguments[3])
    try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let seeds = FuzzSeeds.seeds(for: arguments[2])
    for (i, seed) in seeds.enumerated() {
        do { try Data(seed).write(to: directory.appendingPathComponent(String(format: "seed-%03d", i))) } catch {
            fail("cannot write seeds to \(directory.path): \(error)")
        }
    }
    print("\(seeds.count) seeds for \(arguments[2]) in \(directory.path)")
    exit(0)
}

// libFuzzer re-executes itself with the argv it was given (-minimize_crash, -fork, -jobs), which no
// longer names the target: the environment carries it to those children.
let inherited = ProcessInfo.processInfo.environment["CHORUS_FUZZ_TARGET"].flatMap { FuzzTargets.named($0) }
let targetArguments = inherited == nil ? 2 : 1
guard let target = inherited ?? FuzzTargets.named(arguments[1]) else {
    fail("unknown target \(arguments[1]); chorus-fuzz --list shows them")
}
setenv("CHORUS_FUZZ_TARGET", target.name, 1)

/// The target libFuzzer's callback runs (a C function pointer captures nothing).
nonisolated(unsafe) var selected: FuzzTarget = target

if cfuzz_has_driver() != 0 {
    // libFuzzer parses argv itself: hand it everything but the target name.
    var cArguments: [UnsafeMutablePointer<CChar>?] = ([arguments[0]] + arguments.dropFirst(targetArguments)).map { strdup($0) } + [nil]
    var argc = Int32(cArguments.count - 1)
    let status = cArguments.withUnsafeMutableBufferPointer { buffer -> Int32 in
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = buffer.baseAddress
        return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            selected.run(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
            return 0
        }
    }
    exit(status)
}

// No libFuzzer: replay inputs.
var replayed = 0
for path in arguments.dropFirst(targetArguments) where !path.hasPrefix("-") {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { fail("no such file: \(path)") }
    let files = isDirectory.boolValue
        ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 }
        : [path]
    for file in files {
        guard let data = FileManager.default.contents(atPath: file) else { continue }
        target.run(Array(data))
        replayed += 1
    }
}
print("replayed \(replayed) inputs on \(target.name) (no libFuzzer in this build)")
