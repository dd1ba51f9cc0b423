import ArgumentParser
import Foundation
import Pipeline
import SeedpipeKit
import Stages

struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "List the remote generations in the journal and their state.",
        discussion: """
            intent: about to submit (a rerun checks request history before sending);
            submitted: paid for, still running; completed: output ready to download;
            downloaded: in the cache; failed: ended FAILED.

            With --shared-journal (or SEEDPIPE_SHARED_JOURNAL), the team's generations
            instead: claimed, submitting, submitted, done, failed or uncertain (its
            owner vanished mid-submit; settled through request history), who owns
            each, what each cost, and the day's spend against the team's budget.

            Examples:
              seedpipe jobs pipelines/waterfall-journey.yaml
              seedpipe jobs --cache pipelines/.seedpipe --json
            """
    )

    @OptionGroup var location: CacheCommand.Location

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @OptionGroup var team: SharedJournalOption

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        global.apply()
        if let journal = team.journal { return try await listTeam(journal) }
        let folder = location.folder
        var entries = try await GenerationEntry.all(in: try location.storage().journal)
        // A pipeline named: its generations only (the cache may hold others').
        let name = location.pipeline.map { PipelineFile.name(of: URL(fileURLWithPath: $0)) }
        if let name { entries = entries.filter { $0.pipeline == name } }
        if json { return try Terminal.json(entries) }
        guard !entries.isEmpty else { return print("no journaled generations\(name.map { " of \($0)" } ?? "") in \(folder.relativePath)") }
        let formatter = ISO8601DateFormatter()
        for entry in entries {
            print("\(entry.state.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) \(entry.pipeline)/\(entry.stage)  "
                  + "request \(entry.requestID ?? "—")  \(entry.seconds) s  \(formatter.string(from: entry.createdAt))"
                  + (entry.error.map { "  (\($0))" } ?? ""))
        }
    }
}

extension JobsCommand {
    /// The team's generations (a pipeline named: its own), with owners and the day's spend.
    func listTeam(_ journal: SharedJournal) async throws {
        var rows = try await journal.all()
        let name = location.pipeline.map { PipelineFile.name(of: URL(fileURLWithPath: $0)) }
        if let name { rows = rows.filter { $0.pipeline == name } }
        let budget = try await journal.budget()
        struct Listing: Encodable {
            var generations: [TeamGeneration]
            var budget: SharedJournal.Budget
        }
        if json { return try Terminal.json(Listing(generations: rows, budget: budget)) }
        let formatter = ISO8601DateFormatter()
        for row in rows {
            let cost = row.cost.map { String(format: "$%.2f", $0) } ?? row.estimate.map { String(format: "~$%.2f", $0) } ?? "—"
            print("\(row.state.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) \(row.pipeline)/\(row.stage)  "
                  + "owner \(row.owner)  request \(row.requestID ?? "—")  \(cost)"
                  + (row.updatedAt.map { "  \(formatter.string(from: $0))" } ?? ""))
        }
        if rows.isEmpty { print("no generations\(name.map { " of \($0)" } ?? "") in the team's journal (\(journal.displayURL))") }
        print(String(format: "today: $%.2f spent or running", budget.spentToday)
              + (budget.perDay.map { String(format: " of $%.2f a day", $0) } ?? " (no daily budget)"))
    }
}

extension PipelineOptions {
    init(pipeline: String, cache: String?) {
        self.init()
        self.pipeline = pipeline
        self.cache = cache
    }
}
