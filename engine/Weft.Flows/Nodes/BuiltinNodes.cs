namespace Weft.Flows.Nodes;

/// <summary>The built-in node library.</summary>
public static class BuiltinNodes
{
    /// <summary>Fresh instances of every built-in node type: core, LLM, search and evaluators.</summary>
    public static IEnumerable<IFlowNode> All() => CoreNodes.All().Concat(LlmNodes.All()).Concat(SearchNodes.All()).Concat(EvalNodes.All());
}
