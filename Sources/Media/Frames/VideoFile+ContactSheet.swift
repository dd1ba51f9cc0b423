import Foundation

extension VideoFile {
    /// A grid of `columns` × `rows` frames taken at even intervals (the middle of each
    /// slice of the video), `width` pixels wide in all, with a thin dark gutter.
    public func contactSheet(columns: Int = 4, rows: Int = 3, width: Int = 1280) throws -> FrameImage {
        guard (1...16).contains(columns), (1...16).contains(rows), width >= columns * 16 else {
            throw MediaError(.invalidArgument, "a contact sheet takes 1 to 16 columns and rows, at least 16 pixels a tile",
                             path: url.relativePath)
        }
        let duration = try MediaInfo.probe(url).video?.duration ?? MediaInfo.probe(url).duration ?? 0
        let gutter = 4
        let tileWidth = (width - gutter * (columns + 1)) / columns
        var tiles: [FrameImage] = []
        for index in 0..<(columns * rows) {
            let time = duration * (Double(index) + 0.5) / Double(columns * rows)
            let frame = try self.frame(at: min(time, max(0, duration - 0.001)))
            let tileHeight = max(2, Int((Double(tileWidth) * Double(frame.height) / Double(frame.width)).rounded()))
            tiles.append(try frame.scaled(width: tileWidth, height: tileHeight))
        }
        let tileHeight = tiles[0].height
        let height = gutter + rows * (tileHeight + gutter)
        var sheet = FrameImage(width: width, height: height, red: 24, green: 24, blue: 28)
        for (index, tile) in tiles.enumerated() {
            let x = gutter + (index % columns) * (tileWidth + gutter)
            let y = gutter + (index / columns) * (tileHeight + gutter)
            for row in 0..<min(tile.height, tileHeight) {
                let source = row * tile.width * 3
                let destination = ((y + row) * width + x) * 3
                sheet.pixels.replaceSubrange(destination..<(destination + tile.width * 3),
                                             with: tile.pixels[source..<(source + tile.width * 3)])
            }
        }
        return sheet
    }
}
