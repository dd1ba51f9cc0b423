import ArgumentParser
import Foundation
import Pipeline

struct GraphCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Print a pipeline's stages and edges as Graphviz dot or Mermaid.",
        discussion: """
            Examples:
              seedpipe graph pipelines/waterfall-journey.yaml | dot -Tpng -o graph.png
              seedpipe graph pipelines/waterfall-journey.yaml --format mermaid
            """
    )

    @OptionGroup var options: PipelineOptions

    @Option(help: "dot or mermaid.")
    var format: PipelineGraph.GraphFormat = .dot

    @OptionGroup var global: GlobalOptions

    func run() throws {
        global.apply()
        print(try options.load().graph.rendered(as: format))
    }
}

extension PipelineGraph.GraphFormat: ExpressibleByArgument {}
