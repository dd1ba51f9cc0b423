import Foundation
import MediaTestSupport
import Pipeline
import SeedpipeKit
import Stages
import Testing

/// The team's journal against a real PostgreSQL: claims, leases decided by the database's
/// clock, epochs that fence a machine that lost its claim, uncertain submits, the team budget.
/// Each test has a database of its own; "machines" are journals with owners of their own.
@Suite(.serialized, .timeLimit(.minutes(10)), .enabled(if: TestPostgres.shouldRun, "needs PostgreSQL 15 (make test installs it)"))
struct SharedJournalTests {
    static let body: Value = .object(["prompt": .string("A lighthouse at dusk"), "seed": .number(42)])

    static let lease = Duration.seconds(60)

    /// Two machines on one fresh database. Their leases are judged by the database's clock,
    /// which only the test moves on (``SharedJournal/LeaseTime``): a lease runs out when the
    /// test says so, however loaded the machine.
    func machines(_ server: TestPostgres, _ database: String) async throws -> (SharedJournal, SharedJournal) {
        try await Thread.detached { try server.createDatabase(database) }
        let url = URL(string: server.url(database))!
        let time = SharedJournal.LeaseTime()
        // A generous deadline: at the start of a test run every test competes for two cores.
        let (a, b) = (try SharedJournal(url: url, lease: Self.lease, deadline: .seconds(300), leaseTime: time),
                      try SharedJournal(url: url, lease: Self.lease, deadline: .seconds(300), leaseTime: time))
        try await a.prepare()
        try await b.prepare()
        return (a, b)
    }

    /// Moves the database's clock past the lease, then claims: this machine owns it now.
    func claimOnceExpired(_ journal: SharedJournal, _ key: String) async throws -> TeamSeat {
        guard case .busy(let row) = try await journal.claim(key, pipeline: "p", stage: "s"), !row.leaseExpired else {
            throw NeverClaimable(key: key)
        }
        journal.leaseTime.advance(by: Self.lease + .seconds(1))
        guard case .owned(let seat) = try await journal.claim(key, pipeline: "p", stage: "s") else { throw NeverClaimable(key: key) }
        return seat
    }

    struct NeverClaimable: Error { var key: String }

    @Test func aClaimTakenOverAfterItsLeaseFencesTheFirstOwnerOut() async throws {
        let server = try await TestPostgres.start()
        let (a, b) = try await machines(server, "fencing")
        guard case .owned(let first) = try await a.claim("k1", pipeline: "p", stage: "s") else { Issue.record("a owns it first"); return }
        #expect(first.epoch == 1)
        guard case .busy(let row) = try await b.claim("k1", pipeline: "p", stage: "s") else { Issue.record("b waits"); return }
        #expect(row.owner == a.owner && row.state == .claimed && !row.leaseExpired)
        // a is paused (no heartbeat): once its lease runs out, b takes over with a new epoch.
        let second = try await claimOnceExpired(b, "k1")
        #expect(second.epoch == 2 && second.uncertainBody == nil)
        // a wakes up: it cannot submit, nor keep the claim alive.
        await #expect(throws: TeamLedgerError.self) {
            try await a.beginSubmit(first, body: Self.body, seconds: 5, estimate: 0)
        }
        #expect(try await a.renew(first) == false)
        try await b.beginSubmit(second, body: Self.body, seconds: 5, estimate: 0)
        #expect(try await b.renew(second))
        guard case .busy = try await a.claim("k1", pipeline: "p", stage: "s") else { Issue.record("a waits for b"); return }
        try await b.submitted(second, requestID: "req-b")
        guard case .accepted(let accepted) = try await a.claim("k1", pipeline: "p", stage: "s") else {
            Issue.record("a polls b's request"); return
        }
        #expect(accepted.requestID == "req-b" && accepted.state == .submitted && accepted.requestBody == Self.body)
        let made: [String: Value] = ["video": .string("sha256-of-the-clip")]
        try await a.done("k1", requestID: "req-b", cost: 0.25, outputs: made)
        let done = try await b.generation("k1")
        #expect(done?.state == .done && done?.cost == 0.25 && done?.outputs == made)
        await server.shutDown()
    }

    @Test func anOwnerThatVanishedWhileSubmittingLeavesItUncertain() async throws {
        let server = try await TestPostgres.start()
        let (a, b) = try await machines(server, "uncertain")
        guard case .owned(let seat) = try await a.claim("k2", pipeline: "p", stage: "s") else { Issue.record("a owns it"); return }
        try await a.beginSubmit(seat, body: Self.body, seconds: 5, estimate: 0.25)
        // a vanishes between its submit and the answer.
        let taken = try await claimOnceExpired(b, "k2")
        #expect(taken.uncertainBody == Self.body, "the body to look for in request history")
        #expect(try await b.generation("k2")?.state == .uncertain)
        // Found in history: its request id is recorded, and the generation is nobody's to submit.
        try await b.submitted(taken, requestID: "req-a")
        let row = try await a.generation("k2")
        #expect(row?.state == .submitted && row?.requestID == "req-a")
        // The first owner's late answer does not overwrite the request id recorded.
        try await a.submitted(seat, requestID: "req-other")
        #expect(try await a.generation("k2")?.requestID == "req-a")
        await server.shutDown()
    }

    @Test func aFailedGenerationAndAClaimGivenUpAreFreeToClaimAtOnce() async throws {
        let server = try await TestPostgres.start()
        let (a, b) = try await machines(server, "failed")
        guard case .owned(let seat) = try await a.claim("k3", pipeline: "p", stage: "s") else { Issue.record("a owns it"); return }
        try await a.release(seat)
        guard case .owned(let again) = try await b.claim("k3", pipeline: "p", stage: "s") else { Issue.record("b owns it"); return }
        try await b.beginSubmit(again, body: Self.body, seconds: 5, estimate: 0)
        try await b.release(again)  // submitting: not given up
        #expect(try await a.generation("k3")?.state == .submitting)
        try await b.submitted(again, requestID: "req-1")
        try await b.failed("k3", requestID: "req-1", error: "moderation")
        guard case .owned(let third) = try await a.claim("k3", pipeline: "p", stage: "s") else { Issue.record("a owns it again"); return }
        #expect(third.epoch == 3)
        await server.shutDown()
    }

    @Test func theTeamBudgetHoldsAgainstTwoMachinesAtOnce() async throws {
        let server = try await TestPostgres.start()
        let (a, b) = try await machines(server, "budget")
        try await a.setBudget(perDay: 1.0)
        // Ten generations at $0.25 from two machines at once: four fit in $1.00.
        let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<10 {
                let journal = index.isMultiple(of: 2) ? a : b
                group.addTask {
                    guard case .owned(let seat) = try await journal.claim("g\(index)", pipeline: "p", stage: "s\(index)") else { return false }
                    do {
                        try await journal.beginSubmit(seat, body: .object(["prompt": .string("shot \(index)")]), seconds: 5, estimate: 0.25)
                        return true
                    } catch TeamLedgerError.overBudget(let message) {
                        #expect(message.contains("$1.00 a day"))
                        return false
                    }
                }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 4)
        let budget = try await b.budget()
        #expect(budget.perDay == 1.0 && abs(budget.spentToday - 1.0) < 1e-9 && budget.generationsToday == 4)
        try await a.setBudget(perDay: nil)
        #expect(try await a.budget().perDay == nil)
        await server.shutDown()
    }

    @Test func theTablesAreMadeOnceAndVersioned() async throws {
        let server = try await TestPostgres.start()
        let (a, b) = try await machines(server, "schema")
        async let first: Void = a.prepare()
        async let second: Void = b.prepare()
        _ = try await (first, second)
        let version = try await Thread.detached { try server.psql("SELECT version FROM seedpipe_schema", database: "schema") }
        #expect(version.output.trimmingCharacters(in: .whitespacesAndNewlines) == String(SharedJournal.schemaVersion))
        let tables = try await Thread.detached {
            try server.psql("SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE tablename LIKE 'seedpipe_%'", database: "schema")
        }
        #expect(tables.output.trimmingCharacters(in: .whitespacesAndNewlines) == "seedpipe_budget,seedpipe_generations,seedpipe_schema")
        await server.shutDown()
    }

    @Test func anUnreachableDatabaseIsAClearErrorWithoutItsPassword() async throws {
        let port = try TestPorts.free()
        // A deadline past the suite's time limit: the test ends only if a refused connection
        // fails at once.
        let journal = try SharedJournal(url: URL(string: "postgres://team:s3cret-pw@127.0.0.1:\(port)/films?sslmode=disable")!,
                                        deadline: .seconds(3600))
        do {
            _ = try await journal.claim("k", pipeline: "p", stage: "s")
            Issue.record("a claim without a database")
        } catch let error as TeamLedgerError {
            guard case .unreachable(let message) = error else { Issue.record("\(error)"); return }
            #expect(message.contains("postgres://team@127.0.0.1:\(port)/films"), "\(message)")
            #expect(!message.contains("s3cret-pw"))
        }
        // Later calls fail too, with the same clear reason.
        let again = await #expect(throws: TeamLedgerError.self) { try await journal.budget() }
        guard case .unreachable(let message)? = again else { Issue.record("\(String(describing: again))"); return }
        #expect(message.contains("127.0.0.1:\(port)") && !message.contains("s3cret-pw"), "\(message)")
    }
}
