using System.Diagnostics;

namespace RnnService.Core;

/// <summary>
/// Test-only crash switch: when the environment variable <c>RNNSERVICE_CRASH_AT</c> names a stage, the process kills
/// itself (SIGKILL, no cleanup) on reaching it. The crash tests use it to prove that a crash at any stage of training
/// or publishing leaves the models folder consistent. Unset, as in every real deployment, it does nothing.
/// </summary>
public static class FaultInjection
{
    public const string Variable = "RNNSERVICE_CRASH_AT";

    private static readonly string? CrashAt = Environment.GetEnvironmentVariable(Variable);

    public static void Reached(string stage)
    {
        if (CrashAt is not null && string.Equals(CrashAt, stage, StringComparison.Ordinal)) Process.GetCurrentProcess().Kill();
    }
}
