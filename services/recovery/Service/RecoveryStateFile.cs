using LvsEvents.Recovery.Policy;
using Microsoft.Extensions.Logging;

namespace LvsEvents.Recovery.Service;

/// <summary>The self-healing policy's state on disk: a restarted service resumes ramps and holds.</summary>
public sealed class RecoveryStateFile(string path, ILogger<RecoveryStateFile> logger)
    : DurableStateFile<SelfHealingState>(path, "Recovery state", "health is learnt again from the bus and the next health snapshot", logger);
