// The Start-menu icon of the WSL distribution: a Windows .ico file ("Icons", Microsoft Learn,
// win32 `ICONDIR`/`ICONDIRENTRY`; the image is a DIB with BITMAPINFOHEADER). All fields are
// little-endian.
//
//   offset size  ICONDIR
//        0    2  reserved = 0
//        2    2  type = 1 (icon)
//        4    2  image count = 1
//   offset size  ICONDIRENTRY
//        6    1  width (64)          7  1  height (64)
//        8    1  palette colours (0) 9  1  reserved (0)
//       10    2  colour planes (1)  12  2  bits per pixel (32)
//       14    4  image bytes        18  4  image offset (22)
//   offset size  image: BITMAPINFOHEADER (40 bytes; height doubled for the AND mask),
//       22   40  then 64×64 BGRA pixels bottom-up, then the 1-bit AND mask (rows of 4 bytes)
//
// Drawn in code (a white "U" on a rounded blue square) so the image needs no binary asset and
// is the same bytes on every build.
import FoundationEssentials
import Glibc

package enum WSLIcon {
    package static let size = 64

    package static func ico() -> Data {
        let n = size
        var pixels = [UInt8](repeating: 0, count: n * n * 4)
        for y in 0..<n {
            for x in 0..<n {
                let (r, g, b, a) = color(x: x, y: y)
                // DIB rows go bottom-up.
                let i = ((n - 1 - y) * n + x) * 4
                pixels[i] = b; pixels[i + 1] = g; pixels[i + 2] = r; pixels[i + 3] = a
            }
        }
        let maskRow = ((n + 31) / 32) * 4
        let mask = [UInt8](repeating: 0, count: maskRow * n)
        var image = Data()
        image.appendLE(UInt32(40))  // biSize
        image.appendLE(Int32(n))  // biWidth
        image.appendLE(Int32(n * 2))  // biHeight: colour + mask
        image.appendLE(UInt16(1))  // biPlanes
        image.appendLE(UInt16(32))  // biBitCount
        image.appendLE(UInt32(0))  // biCompression: BI_RGB
        image.appendLE(UInt32(pixels.count + mask.count))
        image.appendLE(Int32(0)); image.appendLE(Int32(0))  // pixels per metre
        image.appendLE(UInt32(0)); image.appendLE(UInt32(0))  // palette
        image.append(contentsOf: pixels)
        image.append(contentsOf: mask)

        var out = Data()
        out.appendLE(UInt16(0)); out.appendLE(UInt16(1)); out.appendLE(UInt16(1))
        out.append(UInt8(n)); out.append(UInt8(n)); out.append(0); out.append(0)
        out.appendLE(UInt16(1)); out.appendLE(UInt16(32))
        out.appendLE(UInt32(image.count)); out.appendLE(UInt32(22))
        out.append(image)
        return out
    }

    /// The picture: transparent corners, a blue rounded square, a white U.
    static func color(x: Int, y: Int) -> (UInt8, UInt8, UInt8, UInt8) {
        let n = Double(size)
        let px = Double(x) + 0.5, py = Double(y) + 0.5
        // Rounded square with an 12-pixel corner radius and a 2-pixel margin.
        let margin = 2.0, radius = 12.0
        let cx = min(max(px, margin + radius), n - margin - radius)
        let cy = min(max(py, margin + radius), n - margin - radius)
        if hypot(px - cx, py - cy) > radius { return (0, 0, 0, 0) }
        // The U: two bars joined by a half ring centred at (32, 38).
        let stroke = 8.0
        let left = 16.0, right = 48.0, top = 14.0, bottomCentre = 38.0
        let inBars = py >= top && py <= bottomCentre && ((px >= left && px <= left + stroke) || (px >= right - stroke && px <= right))
        let d = hypot(px - n / 2, py - bottomCentre)
        let outer = (right - left) / 2
        let inRing = py > bottomCentre && d <= outer && d >= outer - stroke
        if inBars || inRing { return (255, 255, 255, 255) }
        return (0x2f, 0x5b, 0xd8, 255)
    }
}

extension Data {
    fileprivate mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        var v = value.littleEndian
        Swift.withUnsafeBytes(of: &v) { append(contentsOf: $0) }
    }
}
