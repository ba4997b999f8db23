using Weft.Cli;

namespace Weft.Cli.Tests;

/// <summary>Runs the CLI in-process with stdout and stderr captured (tests in this assembly run one at a time).</summary>
internal static class CliRunner
{
    private static readonly SemaphoreSlim s_gate = new(1, 1);

    public static async Task<(int Code, string Out, string Err)> Run(params string[] args)
    {
        await s_gate.WaitAsync();
        TextWriter oldOut = Console.Out, oldErr = Console.Error;
        var o = new StringWriter();
        var e = new StringWriter();
        try
        {
            Console.SetOut(o);
            Console.SetError(e);
            int code = await CliApp.RunAsync(args);
            return (code, o.ToString(), e.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
            s_gate.Release();
        }
    }
}
