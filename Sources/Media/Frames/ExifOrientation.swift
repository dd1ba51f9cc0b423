import Foundation

/// The EXIF Orientation (tag 0x0112) of a JPEG (its APP1 `Exif` segment) or a PNG (its
/// `eXIf` chunk), read from the file's first 256 KB. Every offset is checked: a broken or
/// hostile file has no orientation, never a trap.
enum ExifOrientation {
    static func read(_ url: URL) -> Orientation? {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: 262_144) else { return nil }
        let bytes = [UInt8](data)
        if bytes.starts(with: [0xFF, 0xD8]) { return jpeg(bytes) }
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return png(bytes) }
        return nil
    }

    private static func jpeg(_ b: [UInt8]) -> Orientation? {
        var i = 2
        while i + 4 <= b.count, b[i] == 0xFF {
            let marker = b[i + 1]
            if marker == 0xDA || marker == 0xD9 { return nil }       // the picture starts: no EXIF before it
            let length = Int(b[i + 2]) << 8 | Int(b[i + 3])
            guard length >= 2, i + 2 + length <= b.count else { return nil }
            if marker == 0xE1, length >= 8, b[(i + 4)..<(i + 10)].elementsEqual(Array("Exif".utf8) + [0, 0]) {
                return tiff(Array(b[(i + 10)..<(i + 2 + length)]))
            }
            i += 2 + length
        }
        return nil
    }

    private static func png(_ b: [UInt8]) -> Orientation? {
        var i = 8
        while i + 12 <= b.count {
            let length = Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3])
            guard length >= 0, i + 12 + length <= b.count else { return nil }
            let type = b[(i + 4)..<(i + 8)]
            if type.elementsEqual(Array("eXIf".utf8)) { return tiff(Array(b[(i + 8)..<(i + 8 + length)])) }
            if type.elementsEqual(Array("IDAT".utf8)) || type.elementsEqual(Array("IEND".utf8)) { return nil }
            i += 12 + length
        }
        return nil
    }

    private static func tiff(_ t: [UInt8]) -> Orientation? {
        guard t.count >= 8, t[0] == t[1], t[0] == 0x49 || t[0] == 0x4D else { return nil }
        let little = t[0] == 0x49
        func u16(_ offset: Int) -> Int? {
            guard offset >= 0, offset + 2 <= t.count else { return nil }
            return little ? Int(t[offset]) | Int(t[offset + 1]) << 8 : Int(t[offset]) << 8 | Int(t[offset + 1])
        }
        func u32(_ offset: Int) -> Int? {
            guard let first = u16(offset), let second = u16(offset + 2) else { return nil }
            return little ? second << 16 | first : first << 16 | second
        }
        guard u16(2) == 42, let directory = u32(4), let count = u16(directory) else { return nil }
        for entry in 0..<min(count, 1024) {
            let at = directory + 2 + entry * 12
            guard let tag = u16(at) else { return nil }
            if tag == 0x0112, u16(at + 2) == 3, let value = u16(at + 8) { return Orientation(exif: value) }
        }
        return nil
    }
}
