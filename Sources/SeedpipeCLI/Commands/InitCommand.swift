import ArgumentParser
import Foundation
import Pipeline
import SeedpipeKit

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a commented starter pipeline.",
        discussion: """
            chain: shots chained on each other's last frames; storyboard: shots between
            keyframes, all at once; teaser: independent vertical shots, crossfaded. Each
            validates and runs offline as it is. An existing file is never overwritten.

            Examples:
              seedpipe init my-film.yaml
              seedpipe init valley.yaml --template storyboard
              seedpipe plan my-film.yaml
            """
    )

    @Argument(help: "The pipeline file to write (.yaml).")
    var file: String

    @Option(help: "chain, storyboard or teaser.")
    var template: String = StarterPipeline.chain.rawValue

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard StarterPipeline(rawValue: template) != nil else {
            throw ValidationError("--template \(template): use \(StarterPipeline.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard file.hasSuffix(".yaml") || file.hasSuffix(".yml") else { throw ValidationError("\(file): name a .yaml file") }
    }

    func run() async throws {
        global.apply()
        let url = URL(fileURLWithPath: file)
        guard !FileManager.default.fileExists(atPath: url.path) else {
            Terminal.error("error: \(file) exists; seedpipe init never overwrites a file: name another")
            throw ExitCode(2)
        }
        let name = url.deletingPathExtension().lastPathComponent
        let starter = StarterPipeline(rawValue: template) ?? .chain
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        // withoutOverwriting: another process may have made it since the check.
        try Data(starter.text(name: name).utf8).write(to: url, options: .withoutOverwriting)
        Terminal.note("wrote \(file) (\(starter.rawValue)); next: seedpipe plan \(file), then seedpipe run \(file)")
    }
}
