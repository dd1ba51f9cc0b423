import SeedanceAPI
import Testing

@Suite(.timeLimit(.minutes(10))) struct ValidationTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var request: GenerationRequest
        var parameters: [String]
        var says: String
        var testDescription: String { name }
    }

    static let url = "https://example.com/a.png"
    static func base(_ change: (inout GenerationRequest) -> Void) -> GenerationRequest {
        var request = GenerationRequest(prompt: "A waterfall")
        change(&request)
        return request
    }

    static let cases: [Case] = [
        Case(name: "duration 7", request: base { $0.duration = 7 }, parameters: ["duration"],
             says: "duration: must be one of 4, 5, 6, 8, 10, 12, 15 seconds (got 7)"),
        Case(name: "resolution 4k", request: base { $0.resolution = "4k" }, parameters: ["resolution"],
             says: "must be one of 480p, 720p, 1080p"),
        Case(name: "aspect 2:1", request: base { $0.aspectRatio = "2:1" }, parameters: ["aspect_ratio"],
             says: "16:9, 9:16, 1:1, 4:3, 3:4, 21:9, adaptive"),
        Case(name: "seed -2", request: base { $0.seed = -2 }, parameters: ["seed"], says: "from -1 (random) to 2147483647"),
        Case(name: "seed too big", request: base { $0.seed = 2_147_483_648 }, parameters: ["seed"], says: "(got 2147483648)"),
        Case(name: "10 images", request: base { $0.referenceImages = Array(repeating: url, count: 10) },
             parameters: ["reference_images"], says: "at most 9"),
        Case(name: "4 videos", request: base { $0.referenceVideos = Array(repeating: url, count: 4) },
             parameters: ["reference_videos"], says: "at most 3"),
        Case(name: "4 audios", request: base { $0.referenceAudios = Array(repeating: url, count: 4) },
             parameters: ["reference_audios"], says: "at most 3"),
        Case(name: "first frame with references", request: base {
            $0.firstFrameURL = url
            $0.referenceImages = [url]
        }, parameters: ["first_frame_url"], says: "cannot be combined with reference_images"),
        Case(name: "last frame alone", request: base { $0.lastFrameURL = url }, parameters: ["last_frame_url"],
             says: "requires first_frame_url"),
        Case(name: "cites image 3 of 2", request: base {
            $0.prompt = "image 1 meets image 3"
            $0.referenceImages = [url, url]
        }, parameters: ["prompt"], says: "cites image 3 but reference_images has 2"),
        Case(name: "cites video 2 of 1", request: base {
            $0.prompt = "copy the move of Video 2"
            $0.referenceVideos = [url]
        }, parameters: ["prompt"], says: "cites video 2 but reference_videos has 1"),
        Case(name: "cites audio 2 of 0", request: base { $0.prompt = "on the beat of audio 2" }, parameters: ["prompt"],
             says: "cites audio 2 but reference_audios has 0"),
        Case(name: "empty prompt", request: base { $0.prompt = "  " }, parameters: ["prompt"], says: "is required"),
        Case(name: "first frame not a URL", request: base { $0.firstFrameURL = "/home/me/still.png" },
             parameters: ["first_frame_url"], says: "must be an http(s) URL"),
        Case(name: "everything at once", request: base {
            $0.duration = 7
            $0.seed = -5
            $0.lastFrameURL = url
        }, parameters: ["duration", "seed", "last_frame_url"], says: "requires first_frame_url"),
    ]

    @Test(arguments: cases)
    func reportsEveryBrokenRule(_ example: Case) throws {
        let problems = example.request.problems()
        #expect(problems.map(\.parameter) == example.parameters)
        #expect(problems.map(\.description).joined(separator: "; ").contains(example.says), "\(problems)")
        let error = try #require(throws: SeedanceError.self) { try example.request.validated() }
        #expect(error.code == .invalidRequest)
        #expect(error.problems == problems)
    }

    @Test func theSeedExampleIsValid() {
        // The API page's own payload, empty last_frame_url and empty lists included.
        let request = GenerationRequest(
            prompt: "The waterfall cascades powerfully down the moss-covered cliffs.",
            aspectRatio: "16:9", duration: 5, firstFrameURL: "https://segmind-resources.s3.amazonaws.com/input/seedance-input-frame.jpg",
            lastFrameURL: "", generateAudio: true, referenceImages: [], referenceVideos: [], referenceAudios: [],
            resolution: "720p", returnLastFrame: false, seed: 42, skipModeration: false)
        #expect(request.problems().isEmpty)
    }

    @Test(arguments: [
        ("480p", "16:9", nil, 854, 480), ("720p", "16:9", nil, 1280, 720), ("1080p", "16:9", nil, 1920, 1080),
        ("480p", "9:16", nil, 480, 854), ("720p", "1:1", nil, 720, 720), ("720p", "4:3", nil, 960, 720),
        ("720p", "3:4", nil, 720, 960), ("720p", "21:9", nil, 1680, 720), ("480p", "adaptive", 4.0 / 3, 640, 480),
        ("720p", "adaptive", nil, 1280, 720),
    ] as [(String, String, Double?, Int, Int)])
    func outputSizeFollowsResolutionAndAspect(resolution: String, aspect: String, frame: Double?, width: Int, height: Int) {
        let size = OutputSize(resolution: resolution, aspectRatio: aspect, firstFrameAspect: frame)
        #expect(size == OutputSize(width: width, height: height))
    }

    @Test func retryDelaysGrowAndHonourRetryAfter() {
        let policy = RetryPolicy(maximumAttempts: 4, baseDelay: .seconds(1), maximumDelay: .seconds(3), jitter: 0.25)
        #expect(policy.delay(afterAttempt: 1, random: 0) == .seconds(1))
        #expect(policy.delay(afterAttempt: 2, random: 0) == .seconds(2))
        #expect(policy.delay(afterAttempt: 3, random: 0) == .seconds(3))
        #expect(policy.delay(afterAttempt: 3, random: 1) == .milliseconds(3750))
        #expect(policy.delay(afterAttempt: 4) == nil)
        #expect(policy.delay(afterAttempt: 1, retryAfter: .seconds(9)) == .seconds(9))
        #expect(policy.delay(afterAttempt: 1, retryAfter: .seconds(500)) == nil)
    }

    @Test func apiKeyNeverPrints() {
        let key = APIKey("sk-very-secret")
        #expect("\(key)" == "***")
        #expect(String(reflecting: key) == "APIKey(***)")
    }
}
