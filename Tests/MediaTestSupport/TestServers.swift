import Foundation

/// Real servers for the team-cache tests, each started on a free loopback port in a folder of
/// its own and stopped by the test: nginx with WebDAV `PUT` (a remote cache in Bazel's HTTP
/// layout). `make test` installs the programs; in CI (`CI` set) a missing one is a failure,
/// never a skip.
public final class TestNginx: @unchecked Sendable {
    public static let program = "/usr/sbin/nginx"
    public static var installed: Bool { FileManager.default.isExecutableFile(atPath: program) }
    /// Tests that need a server run wherever it is installed, and always in CI.
    public static var shouldRun: Bool { installed || ProcessInfo.processInfo.environment["CI"] != nil }

    public let folder: TemporaryFolder
    /// Where nginx keeps what is PUT: `store/cas/…`, `store/ac/…`.
    public var store: URL { folder.file("store") }
    public let port: Int
    public var url: URL { URL(string: "http://127.0.0.1:\(port)/cache")! }
    private let process: Process

    /// Starts nginx and waits until it accepts connections.
    public init() throws {
        folder = TemporaryFolder("nginx")
        port = try TestPorts.free()
        for name in ["store/cache", "temp", "logs"] {
            try FileManager.default.createDirectory(at: folder.file(name), withIntermediateDirectories: true)
        }
        let temp = folder.file("temp").path
        let store = folder.file("store")
        let config = """
            \(geteuid() == 0 ? "user root root;" : "")
            daemon off;
            worker_processes 1;
            pid \(folder.file("nginx.pid").path);
            error_log \(folder.file("logs/error.log").path) warn;
            events { worker_connections 256; }
            http {
                access_log off;
                client_body_temp_path \(temp)/body;
                proxy_temp_path \(temp)/proxy;
                fastcgi_temp_path \(temp)/fastcgi;
                uwsgi_temp_path \(temp)/uwsgi;
                scgi_temp_path \(temp)/scgi;
                server {
                    listen 127.0.0.1:\(port);
                    root \(store.path);
                    location /cache/ {
                        dav_methods PUT DELETE;
                        create_full_put_path on;
                        client_max_body_size 0;
                    }
                }
            }
            """
        try config.write(to: folder.file("nginx.conf"), atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.program)
        process.arguments = ["-c", folder.file("nginx.conf").path, "-p", folder.url.path, "-e", folder.file("logs/error.log").path]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let process = self.process
        guard TestPorts.waitUntilListening(port, while: { process.isRunning }) else {
            let log = (try? String(contentsOf: folder.file("logs/error.log"), encoding: .utf8)) ?? ""
            stop()
            throw TestServerError(description: "nginx did not start on 127.0.0.1:\(port): \(log)")
        }
    }

    /// Starts one on a thread of its own (starting waits for the port; the cooperative pool
    /// is left to the tests).
    public static func start() async throws -> TestNginx {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try TestNginx() }) }
        }
    }

    /// ``stop()`` on a thread of its own.
    public func shutDown() async {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                self.stop()
                continuation.resume()
            }
        }
    }

    /// The file nginx keeps for `kind` (`cas` or `ac`) and `name`.
    public func file(_ kind: String, _ name: String) -> URL { store.appendingPathComponent("cache/\(kind)/\(name)") }

    /// Stops nginx: SIGTERM (a fast shutdown of the master and its worker), SIGKILL to the
    /// master after 5 s, then waits for it.
    public func stop() {
        guard process.isRunning else { return }
        process.terminate()
        for _ in 0..<250 where process.isRunning { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop() }
}

public struct TestServerError: Error, CustomStringConvertible {
    public var description: String
}

public enum TestPorts {
    /// A loopback port nobody listens on now (the kernel's pick, released at once).
    public static func free() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestServerError(description: "no socket") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socket in
                bind(descriptor, socket, length) == 0 && getsockname(descriptor, socket, &length) == 0
            }
        }
        guard bound else { throw TestServerError(description: "cannot bind a loopback port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Tries to connect every 20 ms for up to 20 s, while `alive` holds.
    public static func waitUntilListening(_ port: Int, while alive: () -> Bool) -> Bool {
        for _ in 0..<6000 {  // 120 s: a deadline only a hung server reaches
            guard alive() else { return false }
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let connected = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            close(descriptor)
            if connected { return true }
            usleep(20_000)
        }
        return false
    }
}

/// PostgreSQL for the shared-journal tests: `initdb` in a folder of its own (as the `postgres`
/// user when the tests run as root, since initdb refuses root), the server on a free loopback
/// port, trust authentication, stopped by the test.
public final class TestPostgres: @unchecked Sendable {
    public static let bin = URL(fileURLWithPath: "/usr/lib/postgresql/15/bin")
    public static var installed: Bool { FileManager.default.isExecutableFile(atPath: bin.appendingPathComponent("postgres").path) }
    /// Tests that need a server run wherever it is installed, and always in CI.
    public static var shouldRun: Bool { installed || ProcessInfo.processInfo.environment["CI"] != nil }

    public let folder: TemporaryFolder
    public let port: Int
    private let process: Process
    private var data: URL { folder.file("data") }

    /// The URL of a database on it (`postgres`, or one made with ``createDatabase(_:)``).
    public func url(_ database: String = "postgres") -> String {
        "postgres://postgres@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    public init() throws {
        folder = TemporaryFolder("postgres")
        port = try TestPorts.free()
        // Root runs the server as `postgres`, which must be able to reach and own its folder.
        chmod(folder.url.path, 0o755)
        if geteuid() == 0, let account = getpwnam("postgres") {
            chown(folder.url.path, account.pointee.pw_uid, account.pointee.pw_gid)
        }
        let initdb = try Self.run(Self.bin.appendingPathComponent("initdb"),
                                  ["-D", folder.file("data").path, "--auth=trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
        guard initdb.status == 0 else {
            throw TestServerError(description: "initdb failed (\(initdb.status)): \(initdb.stderr)")
        }
        process = Process()
        let arguments = [Self.bin.appendingPathComponent("postgres").path, "-D", folder.file("data").path, "-p", String(port),
                         "-k", folder.url.path, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"]
        (process.executableURL, process.arguments) = Self.asServerUser(arguments)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: {
            FileManager.default.createFile(atPath: folder.file("server.log").path, contents: nil)
            return folder.file("server.log")
        }())
        try process.run()
        let process = self.process
        guard TestPorts.waitUntilListening(port, while: { process.isRunning }) else {
            let log = (try? String(contentsOf: folder.file("server.log"), encoding: .utf8)) ?? ""
            stop()
            throw TestServerError(description: "postgres did not start on 127.0.0.1:\(port): \(log)")
        }
        // Listening comes before accepting: "the database system is starting up".
        for _ in 0..<2400 {  // 120 s, likewise
            if (try? psql("SELECT 1"))?.status == 0 { return }
            usleep(50_000)
        }
        stop()
        throw TestServerError(description: "postgres on 127.0.0.1:\(port) never accepted a query")
    }

    /// Starts one on a thread of its own (initdb and the wait for the port block).
    public static func start() async throws -> TestPostgres {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try TestPostgres() }) }
        }
    }

    /// Makes an empty database, so each test has its own.
    public func createDatabase(_ name: String) throws {
        let outcome = try psql("CREATE DATABASE \(name)")
        guard outcome.status == 0 else { throw TestServerError(description: "CREATE DATABASE \(name): \(outcome.stderr)") }
    }

    /// Runs one SQL command with `psql` (the referee's view of the database), in `database`.
    public func psql(_ sql: String, database: String = "postgres") throws -> ChildProcess.Outcome {
        try ChildProcess.run(Self.bin.appendingPathComponent("psql"),
                             ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", database, "-At", "-v", "ON_ERROR_STOP=1", "-c", sql])
    }

    /// Stops the server: a fast shutdown (SIGINT to the postmaster), SIGKILL after 10 s.
    public func stop() {
        guard process.isRunning else { return }
        let pidFile = (try? String(contentsOf: data.appendingPathComponent("postmaster.pid"), encoding: .utf8)) ?? ""
        let pid = pidFile.split(separator: "\n").first.flatMap { pid_t($0) } ?? process.processIdentifier
        kill(pid, SIGINT)
        for _ in 0..<500 where process.isRunning { usleep(20_000) }
        if process.isRunning {
            kill(pid, SIGKILL)
            process.terminate()
        }
        process.waitUntilExit()
    }

    /// ``stop()`` on a thread of its own.
    public func shutDown() async {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                self.stop()
                continuation.resume()
            }
        }
    }

    deinit { stop() }

    /// The program and arguments, through `runuser -u postgres` when running as root.
    static func asServerUser(_ arguments: [String]) -> (URL, [String]) {
        guard geteuid() == 0 else { return (URL(fileURLWithPath: arguments[0]), Array(arguments.dropFirst())) }
        return (URL(fileURLWithPath: "/usr/sbin/runuser"), ["-u", "postgres", "--"] + arguments)
    }

    static func run(_ program: URL, _ arguments: [String]) throws -> ChildProcess.Outcome {
        let (executable, all) = asServerUser([program.path] + arguments)
        return try ChildProcess.run(executable, all, in: URL(fileURLWithPath: "/"))
    }
}
