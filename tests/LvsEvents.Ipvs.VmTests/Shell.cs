using System.Diagnostics;

namespace LvsEvents.Ipvs.VmTests;

internal static class Shell
{
    /// <summary>Runs <paramref name="command"/> with /bin/sh; returns (exit code, stdout + stderr).</summary>
    public static (int ExitCode, string Output) Run(string command, string? input = null)
    {
        var info = new ProcessStartInfo("/bin/sh", ["-c", command])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = input is not null,
            UseShellExecute = false,
        };
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start: {command}");
        if (input is not null)
        {
            process.StandardInput.Write(input);
            process.StandardInput.Close();
        }
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr.Result);
    }

    /// <summary>Runs <paramref name="command"/>; throws with its output if it fails.</summary>
    public static string Check(string command, string? input = null)
    {
        var (code, output) = Run(command, input);
        if (code != 0)
        {
            throw new CheckFailed($"`{command}` exited {code}: {output.Trim()}");
        }
        return output;
    }
}

internal sealed class CheckFailed(string message) : Exception(message);
