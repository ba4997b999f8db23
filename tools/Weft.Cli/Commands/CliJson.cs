using System.Text.Json.Serialization;

namespace Weft.Cli.Commands;

/// <summary>Source-generated JSON metadata for the CLI's outputs.</summary>
[JsonSerializable(typeof(int[]))]
[JsonSerializable(typeof(float[]))]
[JsonSerializable(typeof(double[]))]
[JsonSerializable(typeof(string[]))]
internal sealed partial class CliJson : JsonSerializerContext;
