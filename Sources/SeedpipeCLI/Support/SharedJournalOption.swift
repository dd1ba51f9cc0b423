import ArgumentParser
import Foundation
import SeedpipeKit

/// `--shared-journal URL` for the commands that read or change the team's journal (`jobs`, `budget`).
struct SharedJournalOption: ParsableArguments {
    @Option(help: ArgumentHelp("The team's journal (or $SEEDPIPE_SHARED_JOURNAL): a PostgreSQL URL.", valueName: "postgres://USER@HOST:PORT/DB"))
    var sharedJournal: String?

    func validate() throws {
        do { _ = try SharedJournal.from(sharedJournal) } catch { throw ValidationError("\(error)") }
    }

    /// The journal named, if any.
    var journal: SharedJournal? { try? SharedJournal.from(sharedJournal) }

    /// The journal named, or a usage error saying how to name one.
    func required() throws -> SharedJournal {
        guard let journal else {
            throw ValidationError("name the team's journal: --shared-journal postgres://USER@HOST:PORT/DB, or SEEDPIPE_SHARED_JOURNAL")
        }
        return journal
    }
}
