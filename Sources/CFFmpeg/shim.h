// The one header over the system FFmpeg libraries. Swift cannot import function-like
// macros or compound-literal constants, so each one it needs has an inline twin here.
#ifndef SEEDPIPE_CFFMPEG_SHIM_H
#define SEEDPIPE_CFFMPEG_SHIM_H

#include <errno.h>
#include <stdio.h>
#include <stdarg.h>
#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libavutil/avutil.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libavutil/error.h>
#include <libavutil/imgutils.h>
#include <libavutil/log.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libavutil/samplefmt.h>
#include <libavutil/mathematics.h>
#include <libswscale/swscale.h>
#include <libswresample/swresample.h>
#include <libavfilter/avfilter.h>
#include <libavfilter/buffersrc.h>
#include <libavfilter/buffersink.h>

static inline int cff_averror(int posix_errno) { return AVERROR(posix_errno); }
static inline int cff_averror_eof(void) { return AVERROR_EOF; }
static inline int cff_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int cff_averror_invaliddata(void) { return AVERROR_INVALIDDATA; }
static inline int64_t cff_nopts_value(void) { return AV_NOPTS_VALUE; }
static inline AVRational cff_time_base_q(void) { return AV_TIME_BASE_Q; }
static inline int cff_error_buffer_size(void) { return AV_ERROR_MAX_STRING_SIZE; }

/// Formats one FFmpeg log call into `line` (always NUL-terminated); the va_list stays in C.
static inline int cff_format_log_line(void *avcl, int level, const char *fmt, va_list vl,
                                      char *line, int line_size, int *print_prefix) {
    return av_log_format_line2(avcl, level, fmt, vl, line, line_size, print_prefix);
}

/// AVFrame.data[i] and linesize[i] without tuple gymnastics on the Swift side.
static inline uint8_t *cff_frame_data(const AVFrame *frame, int plane) { return frame->data[plane]; }
static inline int cff_frame_linesize(const AVFrame *frame, int plane) { return frame->linesize[plane]; }
static inline uint8_t **cff_frame_data_array(AVFrame *frame) { return frame->data; }
static inline int *cff_frame_linesize_array(AVFrame *frame) { return frame->linesize; }
static inline uint8_t **cff_frame_extended_data(AVFrame *frame) { return frame->extended_data; }

// Pixel format layout (AVPixFmtDescriptor.comp is a C array Swift cannot index).
/// 1 when every plane of `format` turns by right angles as it is: chroma subsampled alike
/// across and down (4:2:0, 4:4:4, grey, packed RGB, NV12), not paletted, bitstream or hardware.
static inline int cff_pix_fmt_turnable(enum AVPixelFormat format) {
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(format);
    return d && !(d->flags & (AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_BITSTREAM))
        && d->log2_chroma_w == d->log2_chroma_h;
}
/// Bytes from one pixel to the next in `plane` of `format`; 0 when it has no such plane.
static inline int cff_pix_fmt_plane_step(enum AVPixelFormat format, int plane) {
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(format);
    int step = 0;
    for (int c = 0; d && c < d->nb_components; c++)
        if (d->comp[c].plane == plane && d->comp[c].step > step) step = d->comp[c].step;
    return step;
}
/// log2 of the chroma subsampling across (equal to down for turnable formats).
static inline int cff_pix_fmt_chroma_shift(enum AVPixelFormat format) {
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(format);
    return d ? d->log2_chroma_w : 0;
}

#endif
