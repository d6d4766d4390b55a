// UnisonWorkspace: phase 0 and 1 of the roadmap (workspace check, README alignment) and the
// CI workflows generated from the spec. Entry points: WorkspaceCheck.run, ReadmeTargets.check
// and .fix, CIWorkflow.servicePublish. Rules: docs/workspace-rules.md.
