internal import CFFmpeg
internal import CFFmpegLoader
import Foundation

/// A libavfilter graph over planar-float audio: named sources fed from Swift arrays, one
/// sink read back as planar float. The graph's text is ordinary FFmpeg filtergraph syntax
/// (what `ffmpeg -filter_complex` takes), with each source's label as an input pad and
/// `[out]` as the output; it must end in planar float at `rate` and `channels` (an
/// `aformat` at the end does it).
final class AudioFilterGraph {
    private var graph: UnsafeMutablePointer<AVFilterGraph>?
    private var sources: [String: UnsafeMutablePointer<AVFilterContext>] = [:]
    private var positions: [String: Int64] = [:]
    private let sink: UnsafeMutablePointer<AVFilterContext>
    private let frame = Frame()
    let rate: Int
    let channels: Int
    private let path: String?

    /// - Parameters:
    ///   - sources: the labels of the inputs, each fed planar float at `rate` and `channels`.
    init(_ description: String, sources labels: [String], rate: Int, channels: Int, path: String?) throws {
        self.rate = rate
        self.channels = channels
        self.path = path
        guard cff_load_ffmpeg_filters() == 0 else {
            throw MediaError(.ffmpeg, "FFmpeg's libavfilter cannot be loaded (Debian: apt-get install libavfilter8)", path: path)
        }
        guard let graph = avfilter_graph_alloc() else { fatalError("avfilter_graph_alloc: out of memory") }
        self.graph = graph
        var layout = AVChannelLayout()
        av_channel_layout_default(&layout, Int32(channels))
        var layoutName = [CChar](repeating: 0, count: 64)
        av_channel_layout_describe(&layout, &layoutName, layoutName.count)
        av_channel_layout_uninit(&layout)
        let arguments = "time_base=1/\(rate):sample_rate=\(rate):sample_fmt=fltp:channel_layout=\(string(fromBuffer: layoutName))"
        var madeSink: UnsafeMutablePointer<AVFilterContext>?
        do {
            for label in labels {
                var context: UnsafeMutablePointer<AVFilterContext>?
                try check(avfilter_graph_create_filter(&context, avfilter_get_by_name("abuffer"), label, arguments, nil, graph),
                          "avfilter_graph_create_filter", path: path, code: .invalidArgument, "cannot make the audio source `\(label)`")
                sources[label] = context
                positions[label] = 0
            }
            try check(avfilter_graph_create_filter(&madeSink, avfilter_get_by_name("abuffersink"), "out", nil, nil, graph),
                      "avfilter_graph_create_filter", path: path, code: .invalidArgument, "cannot make the audio sink")
            // The open ends of the text: its input labels are our sources' outputs, its `[out]` our sink's input.
            var outputs: UnsafeMutablePointer<AVFilterInOut>?
            for label in labels.reversed() {
                guard let inout_ = avfilter_inout_alloc() else { fatalError("avfilter_inout_alloc: out of memory") }
                inout_.pointee.name = av_strdup(label)
                inout_.pointee.filter_ctx = sources[label]
                inout_.pointee.pad_idx = 0
                inout_.pointee.next = outputs
                outputs = inout_
            }
            var inputs = avfilter_inout_alloc()
            inputs?.pointee.name = av_strdup("out")
            inputs?.pointee.filter_ctx = madeSink
            inputs?.pointee.pad_idx = 0
            inputs?.pointee.next = nil
            defer {
                avfilter_inout_free(&inputs)
                avfilter_inout_free(&outputs)
            }
            try check(avfilter_graph_parse_ptr(graph, description, &inputs, &outputs, nil), "avfilter_graph_parse_ptr",
                      path: path, code: .invalidArgument, "cannot build the audio filter graph `\(description)`")
            try check(avfilter_graph_config(graph, nil), "avfilter_graph_config", path: path, code: .invalidArgument,
                      "cannot configure the audio filter graph `\(description)`")
        } catch {
            avfilter_graph_free(&self.graph)
            throw error
        }
        sink = madeSink!
    }

    deinit { avfilter_graph_free(&graph) }

    /// Feeds `count` samples of each channel to the source `label`.
    func push(_ label: String, planes: [UnsafePointer<Float>], count: Int) throws {
        guard let source = sources[label], count > 0 else { return }
        guard planes.count >= channels else {
            throw MediaError(.encodingFailed, "`\(label)` has \(planes.count) channels, the audio filter graph takes \(channels)", path: path)
        }
        let input = Frame()
        let pointer = input.pointer
        pointer.pointee.format = AV_SAMPLE_FMT_FLTP.rawValue
        pointer.pointee.sample_rate = Int32(rate)
        pointer.pointee.nb_samples = Int32(count)
        av_channel_layout_default(&pointer.pointee.ch_layout, Int32(channels))
        try check(av_frame_get_buffer(pointer, 0), "av_frame_get_buffer", path: path, code: .encodingFailed,
                  "cannot allocate \(count) audio samples")
        guard let buffers = cff_frame_extended_data(pointer) else {
            throw MediaError(.encodingFailed, "cannot allocate \(count) audio samples", path: path)
        }
        for channel in 0..<channels {
            guard let target = buffers[channel] else {
                throw MediaError(.encodingFailed, "cannot allocate \(count) audio samples", path: path)
            }
            UnsafeMutableRawPointer(target).copyMemory(from: planes[channel], byteCount: count * MemoryLayout<Float>.size)
        }
        pointer.pointee.pts = positions[label]!
        positions[label]! += Int64(count)
        try check(av_buffersrc_add_frame_flags(source, pointer, 0), "av_buffersrc_add_frame_flags", path: path,
                  code: .encodingFailed, "the audio filter graph refused samples for `\(label)`")
    }

    /// Tells the source `label` that no more samples come.
    func end(_ label: String) throws {
        guard let source = sources[label] else { return }
        try check(av_buffersrc_add_frame_flags(source, nil, 0), "av_buffersrc_add_frame_flags", path: path,
                  code: .encodingFailed, "cannot end the audio source `\(label)`")
    }

    /// Hands what the sink has ready to `body` (planar float, count); true once the graph has ended.
    @discardableResult
    func pull(_ body: ([UnsafePointer<Float>], Int) -> Void) throws -> Bool {
        while true {
            let status = av_buffersink_get_frame(sink, frame.pointer)
            if status == averrorEAGAIN { return false }
            if status == averrorEOF { return true }
            try check(status, "av_buffersink_get_frame", path: path, code: .encodingFailed, "the audio filter graph failed")
            defer { frame.unref() }
            let count = Int(frame.pointer.pointee.nb_samples)
            let planes = (0..<channels).compactMap { channel in
                cff_frame_extended_data(frame.pointer)?[channel].map { UnsafePointer(UnsafeMutableRawPointer($0).assumingMemoryBound(to: Float.self)) }
            }
            guard frame.pointer.pointee.format == AV_SAMPLE_FMT_FLTP.rawValue, frame.pointer.pointee.ch_layout.nb_channels == Int32(channels),
                  planes.count == channels else {
                throw MediaError(.encodingFailed, "the audio filter graph gave samples of another shape than the \(channels) channels asked for",
                                 path: path)
            }
            body(planes, count)
        }
    }
}
