import Foundation
import PackagePlugin

/// Captures the git revision a target is built from: a prebuild command runs
/// Tools/git-revision.sh, which writes GitRevision.swift into the plugin's work directory (compiled
/// with the target) and rewrites it only when the revision changed. A prebuild command rather than a
/// build command because the revision is an input SwiftPM cannot see: it must be looked at on every
/// build. Outside a git work tree the revision is "unknown".
@main
struct GitRevisionPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) async throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appending(path: "generated")
        let package = context.package.directoryURL
        return [
            .prebuildCommand(
                displayName: "Recording the git revision of \(target.name)",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: [package.appending(path: "Tools/git-revision.sh").path, package.path,
                            output.appending(path: "GitRevision.swift").path],
                outputFilesDirectory: output)
        ]
    }
}
