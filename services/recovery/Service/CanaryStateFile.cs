using LvsEvents.Recovery.Policy;
using Microsoft.Extensions.Logging;

namespace LvsEvents.Recovery.Service;

/// <summary>The canaries on disk: a restarted service carries on with a running canary at the step it was at.</summary>
public sealed class CanaryStateFile(string path, ILogger<CanaryStateFile> logger)
    : DurableStateFile<CanaryPolicyState>(path, "Canary state", "a running canary is not resumed; its weights stay as last set until an operator acts", logger);
