// Tag listing (distribution-spec "Listing tags"): GET /v2/<name>/tags/list?n=<page>, following
// `Link: <…?n=…&last=…>; rel="next"` until there is none.
import FoundationEssentials
import UnisonCore

extension RegistryClient {
    /// Every tag of `repository`, in the order the registry lists them (lexical per the spec).
    package func listTags(_ repository: ImageReference, pageSize: Int = 100) async throws -> [String] {
        let ref = repository.repositoryReference
        var next: URL? = url(ref, "tags/list", query: [URLQueryItem(name: "n", value: String(pageSize))])
        var tags: [String] = []
        var pages = 0
        while let pageURL = next {
            pages += 1
            guard pages <= 10_000 else { break }
            let response = try await execute(
                RegistryExchange(
                    method: .GET, url: pageURL, registry: ref.registry, scopes: [.pull(ref.repository)],
                    what: "GET tag list", reference: ref.name, expected: [200]))
            let data: Data
            do { data = try await response.body.collect(limit: 16 << 20) } catch let error as TransportError {
                throw OCIError.transport(what: "GET tag list", reference: ref.name, detail: error.detail, attempts: 1)
            }
            struct Page: Decodable { var tags: [String]? }
            guard let page = try? JSONDecoder().decode(Page.self, from: data) else {
                throw OCIError.registry(
                    status: 200, what: "GET tag list", reference: ref.name, errors: [],
                    bodyExcerpt: "the answer is not a tag list")
            }
            tags += page.tags ?? []
            next = Self.nextLink(response.headers["Link"], base: pageURL)
        }
        return tags
    }

    /// The `rel="next"` target of a Link header, resolved against the page URL.
    static func nextLink(_ header: String?, base: URL) -> URL? {
        guard let header else { return nil }
        for part in header.split(separator: ",") {
            let piece = part.trimming(.whitespaces)
            guard piece.contains("rel=\"next\"") || piece.contains("rel=next"),
                let open = piece.firstIndex(of: "<"), let close = piece.firstIndex(of: ">"), open < close
            else { continue }
            return URL(string: String(piece[piece.index(after: open)..<close]), relativeTo: base)?.absoluteURL
        }
        return nil
    }
}
