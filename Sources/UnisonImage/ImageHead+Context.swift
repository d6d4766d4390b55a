import FoundationEssentials
import UnisonInstall

/// What the head's steps share in one build: the platform and request they read, the work
/// directory, and what one step works out for the steps after it (the install plan, made once).
package struct ImageHeadContext: Sendable {
    package let platform: ImagePlatform
    package let request: ImageBuildRequest
    package let workDir: URL
    package let status: (@Sendable (String) -> Void)?
    private var plan: InstallPlan?

    package init(platform: ImagePlatform, request: ImageBuildRequest, workDir: URL, status: (@Sendable (String) -> Void)?) {
        self.platform = platform
        self.request = request
        self.workDir = workDir
        self.status = status
    }

    /// The image's install plan: made by the first step that asks (`InstallPlanStep`), then
    /// handed to the later ones (the service image preload reads its layout and images).
    package mutating func installPlan() throws -> InstallPlan {
        if let plan { return plan }
        let made = try PlatformOverlay.plan(platform, version: request.version, epoch: request.epoch)
        plan = made
        return made
    }
}
