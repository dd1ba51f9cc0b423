import ArgumentParser
import Pipeline

/// `--only` and `--until`, for `run` and `plan`.
struct SelectionOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Run only these stages (comma-separated, as named in the file; a chain's or storyboard's name stands for its shots) and what they need.",
                               valueName: "STAGE[,STAGE…]"))
    var only: String?

    @Option(help: ArgumentHelp("Run every stage declared up to this one, and it (with what they need).", valueName: "STAGE"))
    var until: String?

    var selection: StageSelection {
        StageSelection(only: (only ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty },
                       until: until)
    }
}
