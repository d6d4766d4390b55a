import FoundationEssentials

/// QCOW2 v3 writer (qemu docs/interop/qcow2.txt): 64 KiB clusters, only clusters that hold a
/// non-zero byte allocated, uncompressed, 16-bit refcounts, no snapshots or extensions.
///
/// One pass, in this file order:
///
///     cluster 0        header (written last, once every offset is known)
///     cluster 1..      L1 table (its size follows from the virtual size)
///     then             data clusters, in ascending guest order, as the layout yields them
///     then             L2 tables, one per L1 entry that maps any data
///     then             refcount table, then refcount blocks (refcount 1 for every cluster above)
package struct Qcow2Encoder: DiskEncoder {
    package var format: DiskFormat { .qcow2 }
    package let clusterBits: Int

    package init(clusterBits: Int = 16) {
        precondition((9...21).contains(clusterBits))
        self.clusterBits = clusterBits
    }

    package func encode(_ layout: DiskLayout, to url: URL, progress: (@Sendable (Int64) -> Void)?) async throws {
        let clusterSize = Int64(1) << Int64(clusterBits)
        let l2Entries = clusterSize / 8
        let virtualClusters = (layout.size + clusterSize - 1) / clusterSize
        let l1Entries = (virtualClusters + l2Entries - 1) / l2Entries
        let l1Clusters = max(1, (l1Entries * 8 + clusterSize - 1) / clusterSize)

        let out = try OutputFile(creating: url)
        try out.appendZeros(Int(clusterSize * (1 + l1Clusters)))  // header + L1, filled in at the end
        var nextCluster = 1 + l1Clusters
        // Guest cluster -> host cluster, grouped per L1 index.
        var mappings: [Int64: [(l2Index: Int, host: Int64)]] = [:]

        var chunker = LayoutChunker(layout, chunkSize: Int(clusterSize))
        defer { chunker.close() }
        while try chunker.nextInPlace({ index, bytes in
            try out.append(bytes)
            mappings[index / l2Entries, default: []].append((Int(index % l2Entries), nextCluster))
            nextCluster += 1
        }) {
            progress?(chunker.bytesRead)
        }

        // L2 tables in ascending L1 order.
        var l1 = [UInt64](repeating: 0, count: Int(l1Entries))
        let copied: UInt64 = 1 << 63
        for l1Index in mappings.keys.sorted() {
            var table = BinaryRecord(size: Int(clusterSize))
            for m in mappings[l1Index]! {
                table.be64(UInt64(m.host * clusterSize) | copied, at: m.l2Index * 8)
            }
            l1[Int(l1Index)] = UInt64(nextCluster * clusterSize) | copied
            try out.append(table.bytes)
            nextCluster += 1
        }

        // Refcount structures cover every cluster including themselves: grow until stable.
        let refcountsPerBlock = clusterSize * 8 / 16
        let tableEntriesPerCluster = clusterSize / 8
        let metadataStart = nextCluster
        var tableClusters: Int64 = 1, blocks: Int64 = 1
        while true {
            let total = metadataStart + tableClusters + blocks
            let neededBlocks = (total + refcountsPerBlock - 1) / refcountsPerBlock
            let neededTable = max(1, (neededBlocks + tableEntriesPerCluster - 1) / tableEntriesPerCluster)
            if neededBlocks == blocks && neededTable == tableClusters { break }
            blocks = neededBlocks
            tableClusters = neededTable
        }
        let tableOffset = metadataStart * clusterSize
        let totalClusters = metadataStart + tableClusters + blocks
        var table = BinaryRecord(size: Int(tableClusters * clusterSize))
        for b in 0..<blocks {
            table.be64(UInt64((metadataStart + tableClusters + b) * clusterSize), at: Int(b) * 8)
        }
        try out.append(table.bytes)
        for b in 0..<blocks {
            var block = BinaryRecord(size: Int(clusterSize))
            let first = b * refcountsPerBlock
            let last = min(totalClusters, first + refcountsPerBlock)
            if first < last {
                for c in first..<last { block.be16(1, at: Int(c - first) * 2) }
            }
            try out.append(block.bytes)
        }

        // L1 table and header.
        var l1Record = BinaryRecord(size: Int(l1Clusters * clusterSize))
        for (i, e) in l1.enumerated() { l1Record.be64(e, at: i * 8) }
        try out.write(l1Record.bytes, at: clusterSize)
        var header = Qcow2Header(
            size: UInt64(layout.size), l1Size: UInt32(l1Entries), l1TableOffset: UInt64(clusterSize),
            refcountTableOffset: UInt64(tableOffset), refcountTableClusters: UInt32(tableClusters))
        header.clusterBits = UInt32(clusterBits)
        try out.write(header.encode(), at: 0)
        try out.finish()
        progress?(chunker.bytesRead)
    }
}
