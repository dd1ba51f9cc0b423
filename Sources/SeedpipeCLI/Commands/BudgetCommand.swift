import ArgumentParser
import Foundation
import SeedpipeKit

struct BudgetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "budget",
        abstract: "The team's daily budget, kept in the shared journal.",
        discussion: """
            Every machine on the team's journal (--shared-journal, or
            SEEDPIPE_SHARED_JOURNAL) reserves a generation's estimate against it
            before submitting, in one transaction: two machines cannot together
            pass it. A day is a UTC day; failed generations cost nothing.
            """,
        subcommands: [Show.self, Set.self, Clear.self],
        defaultSubcommand: Show.self
    )

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the daily budget and what was spent (or is running) today.",
            discussion: """
                Example:
                  seedpipe budget show --json
                """)
        @OptionGroup var team: SharedJournalOption
        @Flag(help: "Print JSON instead of text.")
        var json = false
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            global.apply()
            let journal = try team.required()
            let budget = try await journal.budget()
            if json { return try Terminal.json(budget) }
            let spent = String(format: "$%.2f spent or running today (%d generation%@)", budget.spentToday, budget.generationsToday,
                               budget.generationsToday == 1 ? "" : "s")
            print(budget.perDay.map { String(format: "budget $%.2f a day; ", $0) + spent } ?? "no budget set; " + spent)
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set the team's daily budget.",
            discussion: """
                Example:
                  seedpipe budget set --per-day 20
                """)
        @OptionGroup var team: SharedJournalOption
        @Option(help: ArgumentHelp("What the team may spend on generations each UTC day.", valueName: "USD"))
        var perDay: Double
        @OptionGroup var global: GlobalOptions

        func validate() throws {
            guard perDay >= 0, perDay.isFinite else { throw ValidationError("--per-day must be 0 or more USD") }
        }

        func run() async throws {
            global.apply()
            let journal = try team.required()
            try await journal.setBudget(perDay: perDay)
            Terminal.note(String(format: "the team's budget is $%.2f a day (%@)", perDay, journal.displayURL))
        }
    }

    struct Clear: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove the team's daily budget.",
            discussion: """
                Example:
                  seedpipe budget clear --quiet
                """)
        @OptionGroup var team: SharedJournalOption
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            global.apply()
            let journal = try team.required()
            try await journal.setBudget(perDay: nil)
            Terminal.note("the team has no daily budget now (\(journal.displayURL))")
        }
    }
}
