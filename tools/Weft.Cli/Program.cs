using Weft.Cli;

return await CliApp.RunAsync(args);
