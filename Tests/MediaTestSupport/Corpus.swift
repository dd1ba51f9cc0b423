import Foundation

/// The shapes of clip users bring from everywhere (phones, cameras, editors, other
/// generators), made once per test process by the `ffmpeg` program as a fixture maker: tiny
/// (64x36 or odd sizes, about a second each, 1.7 MB in all).
///
/// Rotation: FFmpeg 5.1 writes a display matrix only when the `rotate` tag goes with `-c copy`,
/// so rotated clips are stream copies of `base.mp4`. EXIF orientation is spliced into JPEG and
/// PNG stills here (ffmpeg writes none).
public enum Corpus {
    public struct Entry: Sendable {
        public var name: String
        /// Which video stream the file has: nil for none.
        public var hasVideo: Bool { !name.hasSuffix(".m4a") }
        public var hasAudio: Bool
        /// ffprobe's rotation (degrees counter-clockwise) of the display matrix.
        public var rotation: Int
        public var isStill: Bool { name.hasSuffix(".jpg") || name.hasSuffix(".png") }
    }

    /// Every clip, with what the tests expect of it.
    public static let clips: [Entry] = [
        "base.mp4", "hevc.mp4", "portrait.mp4", "vfr.mp4", "vp9_opus.webm", "av1.mp4", "mpeg2.ts", "prores_pcm.mov",
        "h264_10bit.mp4", "hevc_10bit.mp4", "yuv422_66x37.mp4", "yuv422_65x37.mov", "yuvj422_65x37.avi", "yuv444_65x37.mp4",
        "yuv420_65x37.webm", "mono.mp4", "surround51.mp4", "rate22050.mp4", "mp3_mono.mp4", "mp3_stereo.mp4",
        "two_audio.mp4", "fps12.mp4", "fps60.mp4", "mjpeg.avi", "audio_change.ts",
    ].map { Entry(name: $0, hasAudio: true, rotation: 0) }
        + [Entry(name: "noaudio.mp4", hasAudio: false, rotation: 0)]
        + [("rot90.mp4", 90), ("rot180.mp4", -180), ("rot270.mp4", -90), ("hevc_rot270.mp4", -90)].map {
            Entry(name: $0.0, hasAudio: true, rotation: $0.1)
        }

    /// Stills with an EXIF orientation: (name, EXIF value, ffprobe's rotation).
    public static let stills: [(name: String, exif: Int, rotation: Int)] = [
        ("exif3.jpg", 3, -180), ("exif6.jpg", 6, -90), ("exif8.jpg", 8, 90),
        ("exif3.png", 3, -180), ("exif6.png", 6, -90), ("exif8.png", 8, 90),
    ]

    /// The folder holding the corpus, made on first use.
    public static func folder() throws -> URL { try made.get() }

    public static func file(_ name: String) throws -> URL { try folder().appendingPathComponent(name) }

    private static let made: Result<URL, CorpusError> = {
        guard Referee.isAvailable else { return .failure(CorpusError(message: "ffmpeg and ffprobe are not installed")) }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("seedpipe-corpus-\(UUID().uuidString.prefix(8))")
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for (name, arguments) in recipes {
                // `@name` is a file made before, in the corpus.
                let arguments = arguments.map { $0.hasPrefix("@") ? folder.appendingPathComponent(String($0.dropFirst())).path : $0 }
                let result = try Referee.run("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", "-threads", "1"]
                                             + arguments + [folder.appendingPathComponent(name).path])
                guard result.status == 0 else { throw CorpusError(message: "ffmpeg could not make \(name): \(result.stderr)") }
            }
            // Audio that changes shape mid-stream: stereo 48 kHz, then mono 44.1 kHz (TS segments back to back).
            var joined = try Data(contentsOf: folder.appendingPathComponent("seg_a.ts"))
            joined.append(try Data(contentsOf: folder.appendingPathComponent("seg_b.ts")))
            try joined.write(to: folder.appendingPathComponent("audio_change.ts"))
            for still in stills {
                let source = folder.appendingPathComponent(still.name.hasSuffix(".jpg") ? "still.jpg" : "still.png")
                try withOrientation(still.exif, Data(contentsOf: source)).write(to: folder.appendingPathComponent(still.name))
            }
            return .success(folder)
        } catch let error as CorpusError {
            return .failure(error)
        } catch {
            return .failure(CorpusError(message: "\(error)"))
        }
    }()

    public struct CorpusError: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    private static let video = ["-f", "lavfi", "-i", "testsrc2=s=64x36:r=30:d=1"]
    private static let tone = ["-f", "lavfi", "-i", "sine=f=440:r=48000:d=1,pan=stereo|c0=c0|c1=0.5*c0"]
    private static let x264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    private static let aac = ["-c:a", "aac", "-shortest"]
    private static let x265 = ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", "-tag:v", "hvc1"]

    /// In order: later ones copy earlier ones (`@name`).
    private static let recipes: [(String, [String])] = [
        ("base.mp4", video + tone + x264 + aac),
        ("rot90.mp4", ["-i", "@base.mp4", "-c", "copy", "-metadata:s:v:0", "rotate=90"]),
        ("rot180.mp4", ["-i", "@base.mp4", "-c", "copy", "-metadata:s:v:0", "rotate=180"]),
        ("rot270.mp4", ["-i", "@base.mp4", "-c", "copy", "-metadata:s:v:0", "rotate=270"]),
        ("hevc.mp4", video + tone + x265 + ["-pix_fmt", "yuv420p"] + aac),
        ("hevc_rot270.mp4", ["-i", "@hevc.mp4", "-c", "copy", "-metadata:s:v:0", "rotate=270"]),
        ("portrait.mp4", ["-f", "lavfi", "-i", "testsrc2=s=36x64:r=30:d=1"] + tone + x264 + aac),
        ("vfr.mp4", video + tone + ["-vf", "select='not(eq(mod(n\\,10)\\,9))'", "-vsync", "vfr"] + x264 + aac),
        ("vp9_opus.webm", video + tone + ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "200k",
                                          "-c:a", "libopus", "-shortest"]),
        ("av1.mp4", video + tone + ["-c:v", "libaom-av1", "-cpu-used", "8", "-row-mt", "1", "-b:v", "100k"] + aac),
        ("mpeg2.ts", video + tone + ["-c:v", "mpeg2video", "-q:v", "4", "-c:a", "mp2", "-shortest"]),
        ("prores_pcm.mov", video + tone + ["-c:v", "prores_ks", "-profile:v", "2", "-c:a", "pcm_s16le", "-shortest"]),
        ("h264_10bit.mp4", video + tone + ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p10le"] + aac),
        ("hevc_10bit.mp4", video + tone + x265 + ["-pix_fmt", "yuv420p10le"] + aac),
        ("yuv422_66x37.mp4", video + tone + ["-vf", "scale=66:37", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv422p"] + aac),
        ("yuv422_65x37.mov", video + tone + ["-vf", "scale=65:37", "-c:v", "prores_ks", "-profile:v", "2", "-c:a", "pcm_s16le", "-shortest"]),
        ("yuvj422_65x37.avi", video + tone + ["-vf", "scale=65:37,format=yuvj422p", "-c:v", "mjpeg", "-q:v", "3", "-c:a", "pcm_s16le", "-shortest"]),
        ("yuv444_65x37.mp4", video + tone + ["-vf", "scale=65:37", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p"] + aac),
        ("yuv420_65x37.webm", video + tone + ["-vf", "scale=65:37", "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8",
                                              "-pix_fmt", "yuv420p", "-c:a", "libopus", "-shortest"]),
        ("mono.mp4", video + ["-f", "lavfi", "-i", "sine=f=440:r=48000:d=1"] + x264 + aac),
        ("surround51.mp4", video + ["-f", "lavfi", "-i",
            "aevalsrc=exprs=0.3*sin(2*PI*440*t)|0.3*sin(2*PI*550*t)|0.3*sin(2*PI*660*t)|0.1*sin(2*PI*60*t)|0.2*sin(2*PI*770*t)|0.2*sin(2*PI*880*t):c=5.1:s=48000:d=1"]
            + x264 + aac),
        ("rate22050.mp4", video + ["-f", "lavfi", "-i", "sine=f=440:r=22050:d=1"] + x264 + aac),
        ("mp3_mono.mp4", video + ["-f", "lavfi", "-i", "sine=f=440:r=48000:d=1"] + x264 + ["-c:a", "libmp3lame", "-b:a", "64k", "-shortest"]),
        ("mp3_stereo.mp4", video + tone + x264 + ["-c:a", "libmp3lame", "-b:a", "96k", "-shortest"]),
        ("noaudio.mp4", video + x264 + ["-an"]),
        ("two_audio.mp4", video + tone + ["-f", "lavfi", "-i", "sine=f=660:r=48000:d=1", "-map", "0:v", "-map", "1:a", "-map", "2:a",
                                          "-ac", "2"] + x264 + aac),
        ("fps12.mp4", ["-f", "lavfi", "-i", "testsrc2=s=64x36:r=12:d=1"] + tone + x264 + aac),
        ("fps60.mp4", ["-f", "lavfi", "-i", "testsrc2=s=64x36:r=60:d=1"] + tone + x264 + aac),
        ("mjpeg.avi", video + tone + ["-c:v", "mjpeg", "-q:v", "3", "-c:a", "pcm_s16le", "-shortest"]),
        ("still.jpg", ["-f", "lavfi", "-i", "testsrc2=s=64x36", "-frames:v", "1"]),
        ("still.png", ["-f", "lavfi", "-i", "testsrc2=s=64x36", "-frames:v", "1"]),
        ("seg_a.ts", video + tone + x264 + aac + ["-muxdelay", "0", "-muxpreload", "0"]),
        ("seg_b.ts", video + ["-f", "lavfi", "-i", "sine=f=660:r=44100:d=1"] + x264 + aac
            + ["-muxdelay", "0", "-muxpreload", "0", "-output_ts_offset", "1.05"]),
    ]

    /// A JPEG with an EXIF APP1 segment (or a PNG with an eXIf chunk) holding one Orientation tag.
    static func withOrientation(_ orientation: Int, _ image: Data) throws -> Data {
        func be16(_ value: Int) -> [UInt8] { [UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
        func be32(_ value: Int) -> [UInt8] { be16(value >> 16) + be16(value & 0xFFFF) }
        // Big-endian TIFF: header, IFD0 of one entry (0x0112, SHORT, 1, value), no next IFD.
        let tiff: [UInt8] = Array("MM".utf8) + [0, 42] + be32(8) + be16(1) + be16(0x0112) + be16(3) + be32(1)
            + be16(orientation) + [0, 0] + be32(0)
        let bytes = [UInt8](image)
        if bytes.starts(with: [0xFF, 0xD8]) {
            let payload = Array("Exif".utf8) + [0, 0] + tiff
            return Data(bytes[0..<2] + [0xFF, 0xE1] + be16(payload.count + 2) + payload + bytes[2...])
        }
        guard bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else {
            throw CorpusError(message: "not a JPEG or PNG")
        }
        let chunkType = Array("eXIf".utf8)
        let chunk = be32(tiff.count) + chunkType + tiff + be32(Int(crc32(chunkType + tiff)))
        let afterHeader = 8 + 8 + 13 + 4
        return Data(bytes[0..<afterHeader] + chunk + bytes[afterHeader...])
    }

    /// PNG's CRC-32 (ISO 3309).
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}
