internal import CFFmpeg

extension FrameImage {
    /// The image resampled to `width`×`height` (bicubic).
    public func scaled(width: Int, height: Int) throws -> FrameImage {
        guard width > 0, height > 0 else { throw MediaError(.invalidArgument, "cannot scale to \(width)x\(height)") }
        if width == self.width && height == self.height { return self }
        let scaler = try Scaler(sourceWidth: Int32(self.width), sourceHeight: Int32(self.height), sourceFormat: AV_PIX_FMT_RGB24,
                                width: Int32(width), height: Int32(height), format: AV_PIX_FMT_RGB24, path: nil)
        var output = [UInt8](repeating: 0, count: width * height * 3)
        pixels.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                var sourcePlanes: [UnsafePointer<UInt8>?] = [source.baseAddress, nil, nil, nil]
                var sourceStrides: [Int32] = [Int32(self.width * 3), 0, 0, 0]
                let destinationPlanes: [UnsafeMutablePointer<UInt8>?] = [destination.baseAddress, nil, nil, nil]
                let destinationStrides: [Int32] = [Int32(width * 3), 0, 0, 0]
                scaler.scale(source: &sourcePlanes, sourceStrides: &sourceStrides, destination: destinationPlanes,
                             destinationStrides: destinationStrides)
            }
        }
        return FrameImage(width: width, height: height, pixels: output, time: time)
    }
}
