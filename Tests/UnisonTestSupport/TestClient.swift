import Foundation
import UnisonCore
import UnisonOCI

/// A registry client for tests: no ambient credentials, quick retries.
package func testClient(
    credential: RegistryCredential? = nil, chunkSize: Int64 = 8 << 20, attempts: Int = 5,
    monolithic: Bool = false
) -> RegistryClient {
    RegistryClient(
        configuration: .init(
            credentials: CredentialSource(explicit: credential, environment: [:], dockerConfig: URL(fileURLWithPath: "/nonexistent")),
            retry: RetryPolicy(attempts: attempts, initialBackoff: .milliseconds(20), maxBackoff: .milliseconds(200)),
            chunkSize: chunkSize, monolithicUploads: monolithic))
}
