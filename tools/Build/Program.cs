using Weft.Build;

// Entry point of the build program. build.sh / build.ps1 start it from the repository root:
//   ./build.sh TARGET [options]
// Exit codes: 0 success, 1 a step failed, 2 bad usage.
try
{
    return await BuildProgram.RunAsync(args);
}
catch (BuildFailedException ex)
{
    Log.Error(ex.Message);
    return 1;
}
catch (UsageException ex)
{
    Log.Error(ex.Message);
    Console.Error.WriteLine("Run './build.sh help' for the targets and their options.");
    return 2;
}
