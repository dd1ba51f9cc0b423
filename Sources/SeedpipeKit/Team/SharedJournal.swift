import Foundation
import Synchronization
import Logging
import NIOSSL
import Pipeline
import PostgresNIO
import Stages

/// A team's journal of generations in PostgreSQL (`--shared-journal postgres://…`): one row
/// per generation action key, so that machines with separate caches submit each clip once
/// between them, poll each other's requests, and share one daily budget.
///
/// A machine claims a generation with `INSERT … ON CONFLICT DO NOTHING` and keeps its claim
/// alive with a heartbeat; the database's clock decides when a lease has run out. Every write
/// that decides something is fenced by the claim's epoch, so a machine paused past its lease
/// cannot submit once another took over. The tables are made (and upgraded) on first use,
/// in whatever database the URL names.
public actor SharedJournal: TeamLedger {
    /// The schema version this build writes; older databases are upgraded on first use.
    public static let schemaVersion = 1
    public nonisolated let lease: Duration
    /// This process, as its rows name their owner: `host:pid:random`.
    public nonisolated let owner: String
    /// The URL without its password, for messages.
    public nonisolated let displayURL: String
    private let client: PostgresClient
    /// One connection made before the pool is used: it fails at once, with the server's own
    /// reason (refused, a password, a database that does not exist), where the pool would retry.
    private let probe: PostgresConnection.Configuration
    private var runner: Task<Void, Never>?
    private var preparing: Task<Void, any Error>?
    private let leaseSeconds: Double
    /// The database's clock as leases read it: `now()`, moved on by ``LeaseTime/advance(by:)``
    /// in tests (production never moves it).
    public nonisolated let leaseTime: LeaseTime
    private nonisolated var now: String { leaseTime.sql }
    private static let logger = Logger(label: "seedpipe.shared-journal")

    /// A journal in the database `url` names (`postgres://USER:PASSWORD@HOST:PORT/DATABASE`,
    /// `?sslmode=disable|prefer|require`). Nothing connects until the first use.
    /// How long the first connection and the tables may take before the database counts as
    /// unreachable (a refused connection fails at once, whatever this says).
    public nonisolated let deadline: Duration

    public init(url: URL, lease: Duration = .seconds(30), deadline: Duration = .seconds(30), leaseTime: LeaseTime = LeaseTime()) throws {
        self.deadline = deadline
        self.leaseTime = leaseTime
        guard ["postgres", "postgresql"].contains(url.scheme ?? ""), let host = url.host, !host.isEmpty else {
            throw RunError(.invalidRequest, "--shared-journal \(Self.display(url)): give a PostgreSQL URL, such as postgres://seedpipe@db.example:5432/seedpipe")
        }
        let query = URLComponents(url: url, resolvingAgainstBaseURL: false)?.queryItems ?? []
        let tls: PostgresClient.Configuration.TLS
        let probeTLS: PostgresConnection.Configuration.TLS
        let context = { try NIOSSLContext(configuration: .makeClientConfiguration()) }
        switch query.first(where: { $0.name == "sslmode" })?.value ?? "prefer" {
        case "disable": (tls, probeTLS) = (.disable, .disable)
        case "require", "verify-full", "verify-ca": (tls, probeTLS) = (.require(.makeClientConfiguration()), .require(try context()))
        default: (tls, probeTLS) = (.prefer(.makeClientConfiguration()), .prefer(try context()))
        }
        let database = url.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        let user = url.user ?? "postgres", password = url.password?.removingPercentEncoding ?? url.password
        var configuration = PostgresClient.Configuration(host: host, port: url.port ?? 5432, username: user, password: password,
                                                         database: database.isEmpty ? nil : database, tls: tls)
        probe = PostgresConnection.Configuration(host: host, port: url.port ?? 5432, username: user, password: password,
                                                 database: database.isEmpty ? nil : database, tls: probeTLS)
        configuration.options.connectTimeout = .seconds(3)
        configuration.options.maximumConnections = 4
        var background = Self.logger
        background.logLevel = .critical  // a database that is down is reported once, by the run
        client = PostgresClient(configuration: configuration, backgroundLogger: background)
        self.lease = lease
        leaseSeconds = Double(lease.components.seconds) + Double(lease.components.attoseconds) / 1e18
        displayURL = Self.display(url)
        owner = "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier):\(UUID().uuidString.prefix(6).lowercased())"
    }

    /// `--shared-journal`'s value, else `$SEEDPIPE_SHARED_JOURNAL`; the lease from
    /// `$SEEDPIPE_TEAM_LEASE` (seconds, default 30).
    public static func from(_ given: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> SharedJournal? {
        guard let text = given ?? environment["SEEDPIPE_SHARED_JOURNAL"], !text.isEmpty else { return nil }
        guard let url = URL(string: text) else {
            throw RunError(.invalidRequest, "--shared-journal: not a URL; give one such as postgres://seedpipe@db.example:5432/seedpipe")
        }
        let lease = environment["SEEDPIPE_TEAM_LEASE"].flatMap(Double.init).map { Duration.milliseconds(Int64($0 * 1000)) } ?? .seconds(30)
        // One per database and lease in a process (the studio runs many times): its connections are kept.
        return try opened.withLock { opened in
            let name = "\(text) \(lease)"
            if let journal = opened[name] { return journal }
            let journal = try SharedJournal(url: url, lease: lease)
            opened[name] = journal
            return journal
        }
    }

    private static let opened = Mutex<[String: SharedJournal]>([:])

    /// The time leases are judged by: the database's `now()`, plus a shift a test moves on
    /// (shared by the journals of the "machines" it plays) so a lease runs out when the test
    /// says, not when a loaded machine gets round to it. Production never shifts it.
    public final class LeaseTime: Sendable {
        private let shift = Mutex<Double>(0)
        public init() {}
        /// Moves the database's clock on, for every journal sharing this value.
        public func advance(by duration: Duration) {
            shift.withLock { $0 += Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18 }
        }
        /// `now()`, shifted: SQL text (a number this value formats, never user input).
        var sql: String {
            let seconds = shift.withLock { $0 }
            return seconds == 0 ? "now()" : "(now() + make_interval(secs => \(seconds)))"
        }
    }

    static func display(_ url: URL) -> String {
        guard var parts = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return "the URL given" }
        parts.password = nil
        parts.query = nil
        return parts.string ?? "the URL given"
    }

    /// Connects and makes (or upgrades) the tables, once; throws ``TeamLedgerError/unreachable(_:)``
    /// when the database cannot be reached in a few seconds (and at once on every later call).
    public func prepare() async throws {
        if runner == nil {
            let client = self.client
            // Off this actor: the pool's own loop, for the life of the journal.
            runner = Task.detached { await client.run() }
        }
        if preparing == nil {
            let client = self.client, display = displayURL, probe = self.probe, deadline = self.deadline
            preparing = Task.detached {
                do {
                    try await Self.within(deadline) {
                        let connection = try await PostgresConnection.connect(configuration: probe, id: 0, logger: Self.logger)
                        try? await connection.close()
                        try await Self.migrate(client)
                    }
                } catch {
                    throw TeamLedgerError.unreachable("the team's journal at \(display) cannot be reached (\(Self.reason(error)))")
                }
            }
        }
        try await preparing!.value
    }

    /// Stops the connections.
    public func close() {
        runner?.cancel()
        runner = nil
    }

    // MARK: - Schema

    private static func migrate(_ client: PostgresClient) async throws {
        try await client.withTransaction(logger: logger) { connection in
            // One machine makes the tables; the others wait for it here.
            try await connection.query("SELECT pg_advisory_xact_lock(7405532100)", logger: logger)
            try await connection.query("CREATE TABLE IF NOT EXISTS seedpipe_schema (version bigint NOT NULL)", logger: logger)
            var version = 0
            for try await found in try await connection.query("SELECT coalesce(max(version), 0)::bigint FROM seedpipe_schema", logger: logger)
                .decode(Int.self) { version = found }
            guard version < schemaVersion else { return }
            if version < 1 {
                try await connection.query("""
                    CREATE TABLE seedpipe_generations (
                        key text PRIMARY KEY,
                        pipeline text NOT NULL,
                        stage text NOT NULL,
                        state text NOT NULL CHECK (state IN ('claimed', 'submitting', 'submitted', 'done', 'failed', 'uncertain')),
                        owner text NOT NULL,
                        epoch bigint NOT NULL,
                        lease_until timestamptz NOT NULL,
                        request_id text,
                        request_body text,
                        outputs text,
                        seconds bigint,
                        estimate double precision,
                        cost double precision,
                        error text,
                        submit_day date,
                        created_at timestamptz NOT NULL DEFAULT now(),
                        updated_at timestamptz NOT NULL DEFAULT now())
                    """, logger: logger)
                try await connection.query("CREATE INDEX seedpipe_generations_day ON seedpipe_generations (submit_day)", logger: logger)
                try await connection.query("""
                    CREATE TABLE seedpipe_budget (
                        id bigint PRIMARY KEY CHECK (id = 1),
                        per_day double precision NOT NULL,
                        updated_at timestamptz NOT NULL DEFAULT now())
                    """, logger: logger)
            }
            try await connection.query("DELETE FROM seedpipe_schema", logger: logger)
            try await connection.query("INSERT INTO seedpipe_schema (version) VALUES (\(schemaVersion))", logger: logger)
        }
    }

    // MARK: - Claims

    public func claim(_ key: String, pipeline: String, stage: String) async throws -> TeamClaim {
        try await prepare()
        while true {
            let inserted = try await client.query("""
                INSERT INTO seedpipe_generations (key, pipeline, stage, state, owner, epoch, lease_until)
                VALUES (\(key), \(pipeline), \(stage), 'claimed', \(owner), 1, \(unescaped: now) + make_interval(secs => \(leaseSeconds)))
                ON CONFLICT (key) DO NOTHING RETURNING epoch
                """, logger: Self.logger)
            for try await epoch in inserted.decode(Int.self) { return .owned(TeamSeat(key: key, owner: owner, epoch: epoch)) }
            guard let row = try await generation(key) else { continue }  // removed meanwhile: claim again
            switch row.state {
            case .submitted, .done:
                if row.requestID != nil { return .accepted(row) }
                if let seat = try await takeOver(row, as: .claimed) { return .owned(seat) }
            case .claimed, .submitting, .uncertain:
                guard row.leaseExpired else {
                    if row.owner == owner, row.state == .claimed { return .owned(TeamSeat(key: key, owner: owner, epoch: row.epoch)) }
                    return .busy(row)
                }
                // Its owner vanished before sending it: free to claim. While sending it: settled through request history first.
                let state: TeamGenerationState = row.state == .claimed || row.requestBody == nil ? .claimed : .uncertain
                if let seat = try await takeOver(row, as: state) { return .owned(seat) }
            case .failed:
                if let seat = try await takeOver(row, as: .claimed) { return .owned(seat) }
            }
        }
    }

    /// A new epoch for this machine, if no one else moved the row since it was read.
    private func takeOver(_ row: TeamGeneration, as state: TeamGenerationState) async throws -> TeamSeat? {
        let body: String? = state == .uncertain ? row.requestBody?.canonicalJSON : nil
        let rows = try await client.query("""
            UPDATE seedpipe_generations SET state = \(state.rawValue), owner = \(owner), epoch = epoch + 1,
                lease_until = \(unescaped: now) + make_interval(secs => \(leaseSeconds)), request_id = NULL, request_body = \(body),
                cost = NULL, estimate = CASE WHEN \(state.rawValue) = 'uncertain' THEN estimate END, error = NULL, updated_at = now()
            WHERE key = \(row.key) AND epoch = \(row.epoch) AND state = \(row.state.rawValue)
            RETURNING epoch
            """, logger: Self.logger)
        for try await epoch in rows.decode(Int.self) {
            return TeamSeat(key: row.key, owner: owner, epoch: epoch, uncertainBody: state == .uncertain ? row.requestBody : nil)
        }
        return nil
    }

    public func renew(_ seat: TeamSeat) async throws -> Bool {
        let rows = try await client.query("""
            UPDATE seedpipe_generations SET lease_until = \(unescaped: now) + make_interval(secs => \(leaseSeconds))
            WHERE key = \(seat.key) AND epoch = \(seat.epoch) AND owner = \(seat.owner) AND state IN ('claimed', 'submitting', 'uncertain')
            RETURNING epoch
            """, logger: Self.logger)
        for try await _ in rows.decode(Int.self) { return true }
        return false
    }

    public func beginSubmit(_ seat: TeamSeat, body: Value, seconds: Int, estimate: Double) async throws {
        let owner = self.owner, lease = leaseSeconds, json = body.canonicalJSON
        do {
            try await reserve(seat, owner: owner, lease: lease, json: json, seconds: seconds, estimate: estimate)
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error
        }
    }

    private func reserve(_ seat: TeamSeat, owner: String, lease: Double, json: String, seconds: Int, estimate: Double) async throws {
        try await client.withTransaction(logger: Self.logger) { connection in
            // The budget row is locked while the day's spend is added up: two machines reserve one after the other.
            var perDay: Double?
            for try await limit in try await connection.query("SELECT per_day FROM seedpipe_budget WHERE id = 1 FOR UPDATE", logger: Self.logger)
                .decode(Double.self) { perDay = limit }
            if let perDay {
                var spent = 0.0
                for try await total in try await connection.query("""
                    SELECT coalesce(sum(coalesce(cost, estimate, 0)), 0)::float8 FROM seedpipe_generations
                    WHERE key <> \(seat.key) AND submit_day = (now() AT TIME ZONE 'UTC')::date
                      AND state IN ('submitting', 'submitted', 'done', 'uncertain')
                    """, logger: Self.logger).decode(Double.self) { spent = total }
                if spent + estimate > perDay + 1e-9 {
                    throw TeamLedgerError.overBudget(String(format: "the team's budget is $%.2f a day, $%.2f is spent or running today, and this $%.2f would pass it (seedpipe budget set --per-day USD)",
                                                            perDay, spent, estimate))
                }
            }
            let moved = try await connection.query("""
                UPDATE seedpipe_generations SET state = 'submitting', request_body = \(json), seconds = \(seconds), estimate = \(estimate),
                    submit_day = (now() AT TIME ZONE 'UTC')::date, lease_until = \(unescaped: now) + make_interval(secs => \(lease)), updated_at = now()
                WHERE key = \(seat.key) AND epoch = \(seat.epoch) AND owner = \(owner) AND lease_until > \(unescaped: now)
                  AND state IN ('claimed', 'uncertain', 'submitting')
                RETURNING epoch
                """, logger: Self.logger)
            var held = false
            for try await _ in moved.decode(Int.self) { held = true }
            guard held else {
                throw TeamLedgerError.lostClaim("its claim in the team's journal lapsed (lease \(lease) s) and may be another machine's now")
            }
        }
    }

    public func submitted(_ seat: TeamSeat, requestID: String) async throws {
        try await client.query("""
            UPDATE seedpipe_generations SET state = 'submitted', request_id = \(requestID), owner = \(seat.owner), updated_at = now()
            WHERE key = \(seat.key) AND (epoch = \(seat.epoch) OR request_id IS NULL) AND state <> 'done'
            """, logger: Self.logger)
    }

    public func done(_ key: String, requestID: String, cost: Double?, outputs: [String: Value]) async throws {
        let digests = Value.object(outputs).canonicalJSON
        try await client.query("""
            UPDATE seedpipe_generations SET state = 'done', cost = coalesce(\(cost), cost), outputs = \(digests), updated_at = now()
            WHERE key = \(key) AND request_id = \(requestID)
            """, logger: Self.logger)
    }

    public func failed(_ key: String, requestID: String, error: String) async throws {
        try await client.query("""
            UPDATE seedpipe_generations SET state = 'failed', error = \(error), updated_at = now()
            WHERE key = \(key) AND request_id = \(requestID) AND state <> 'done'
            """, logger: Self.logger)
    }

    public func release(_ seat: TeamSeat) async throws {
        try await client.query("""
            UPDATE seedpipe_generations SET state = 'failed', error = 'given up before submitting', updated_at = now()
            WHERE key = \(seat.key) AND epoch = \(seat.epoch) AND owner = \(seat.owner) AND state = 'claimed'
            """, logger: Self.logger)
    }

    // MARK: - Reading and the budget

    private var columns: String {
        """
        key, pipeline, stage, state, owner, epoch, lease_until < \(now) AS expired, request_id, request_body, outputs, seconds, cost,
        estimate, updated_at
        """
    }

    /// One generation's row.
    public func generation(_ key: String) async throws -> TeamGeneration? {
        try await prepare()
        return try await rows(try await client.query("SELECT \(unescaped: columns) FROM seedpipe_generations WHERE key = \(key)",
                                                     logger: Self.logger)).first
    }

    /// Every generation of the team, most recently updated first.
    public func all() async throws -> [TeamGeneration] {
        try await prepare()
        return try await rows(try await client.query("SELECT \(unescaped: columns) FROM seedpipe_generations ORDER BY updated_at DESC",
                                                     logger: Self.logger))
    }

    private func rows(_ sequence: PostgresRowSequence) async throws -> [TeamGeneration] {
        var found: [TeamGeneration] = []
        for try await row in sequence {
            let cells = row.makeRandomAccess()
            let body = try cells["request_body"].decode(String?.self), made = try cells["outputs"].decode(String?.self)
            found.append(TeamGeneration(
                key: try cells["key"].decode(String.self), pipeline: try cells["pipeline"].decode(String.self),
                stage: try cells["stage"].decode(String.self),
                state: TeamGenerationState(rawValue: try cells["state"].decode(String.self)) ?? .failed,
                owner: try cells["owner"].decode(String.self), epoch: try cells["epoch"].decode(Int.self),
                leaseExpired: try cells["expired"].decode(Bool.self), requestID: try cells["request_id"].decode(String?.self),
                requestBody: body.flatMap { try? JSONDecoder().decode(Value.self, from: Data($0.utf8)) },
                outputs: made.flatMap { try? JSONDecoder().decode(Value.self, from: Data($0.utf8)) }?.object,
                seconds: try cells["seconds"].decode(Int?.self), cost: try cells["cost"].decode(Double?.self),
                estimate: try cells["estimate"].decode(Double?.self), updatedAt: try cells["updated_at"].decode(Date?.self)))
        }
        return found
    }

    /// The team's daily budget, and what was spent (or is running) today, UTC.
    public struct Budget: Sendable, Codable, Hashable {
        public var perDay: Double?
        public var spentToday: Double
        public var generationsToday: Int
    }

    public func budget() async throws -> Budget {
        try await prepare()
        var perDay: Double?
        for try await limit in try await client.query("SELECT per_day FROM seedpipe_budget WHERE id = 1", logger: Self.logger)
            .decode(Double.self) { perDay = limit }
        var spent = 0.0, count = 0
        for try await (total, generations) in try await client.query("""
            SELECT coalesce(sum(coalesce(cost, estimate, 0)), 0)::float8, count(*)::bigint FROM seedpipe_generations
            WHERE submit_day = (now() AT TIME ZONE 'UTC')::date AND state IN ('submitting', 'submitted', 'done', 'uncertain')
            """, logger: Self.logger).decode((Double, Int).self) { (spent, count) = (total, generations) }
        return Budget(perDay: perDay, spentToday: spent, generationsToday: count)
    }

    /// Sets the team's daily budget (nil removes it).
    public func setBudget(perDay: Double?) async throws {
        try await prepare()
        if let perDay {
            try await client.query("""
                INSERT INTO seedpipe_budget (id, per_day) VALUES (1, \(perDay))
                ON CONFLICT (id) DO UPDATE SET per_day = EXCLUDED.per_day, updated_at = now()
                """, logger: Self.logger)
        } else {
            try await client.query("DELETE FROM seedpipe_budget", logger: Self.logger)
        }
    }

    // MARK: - Helpers

    /// `body`'s result, or a timeout error once `limit` has passed: then at once, without
    /// waiting for `body` (a connection pool that is still retrying is cancelled, not awaited).
    static func within<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let race = Race<T>()
        return try await withCheckedThrowingContinuation { continuation in
            race.waiting.withLock { $0 = continuation }
            let work = Task {
                // The result first: `take()` must run only once there is one to give.
                do {
                    let value = try await body()
                    race.take()?.resume(returning: value)
                } catch {
                    race.take()?.resume(throwing: error)
                }
            }
            Task {
                try? await Task.sleep(for: limit)
                guard let late = race.take() else { return }
                work.cancel()
                late.resume(throwing: TeamLedgerError.unreachable("no answer in \(limit.secondsText)"))
            }
        }
    }

    static func reason(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return message }
            if let underlying = error.underlying { return "\(underlying)" }
            return "\(error.code)"
        }
        if let error = error as? TeamLedgerError { return error.description }
        return "\(error)"
    }
}

/// A continuation resumed once: by whichever of two tasks ends first.
private final class Race<T: Sendable>: Sendable {
    let waiting = Mutex<CheckedContinuation<T, any Error>?>(nil)
    func take() -> CheckedContinuation<T, any Error>? { waiting.withLock { value in defer { value = nil }; return value } }
}
