namespace Weft.Models.Templates;

internal abstract record Node(int Line);
internal sealed record TextNode(int Line, string Text) : Node(Line);
internal sealed record OutputNode(int Line, Expr Expr) : Node(Line);
internal sealed record IfNode(int Line, List<(Expr Cond, List<Node> Body)> Branches, List<Node>? Else) : Node(Line);
internal sealed record ForNode(int Line, List<string> Targets, Expr Iter, Expr? Filter, List<Node> Body, List<Node>? Else, bool Recursive) : Node(Line);
internal sealed record SetNode(int Line, List<Expr> Targets, Expr? Value, List<Node>? Body) : Node(Line);
internal sealed record MacroNode(int Line, string Name, List<(string Name, Expr? Default)> Params, List<Node> Body) : Node(Line);
internal sealed record CallBlockNode(int Line, Expr Call, List<Node> Body) : Node(Line);
internal sealed record FilterBlockNode(int Line, string Filter, List<Expr> Args, List<Node> Body) : Node(Line);
internal sealed record BreakNode(int Line) : Node(Line);
internal sealed record ContinueNode(int Line) : Node(Line);

internal abstract record Expr(int Line);
internal sealed record Literal(int Line, object? Value) : Expr(Line);
internal sealed record NameExpr(int Line, string Name) : Expr(Line);
internal sealed record ListExpr(int Line, List<Expr> Items) : Expr(Line);
internal sealed record TupleExpr(int Line, List<Expr> Items) : Expr(Line);
internal sealed record DictExpr(int Line, List<(Expr Key, Expr Value)> Items) : Expr(Line);
internal sealed record AttrExpr(int Line, Expr Target, string Name) : Expr(Line);
internal sealed record IndexExpr(int Line, Expr Target, Expr Index) : Expr(Line);
internal sealed record SliceExpr(int Line, Expr Target, Expr? Start, Expr? Stop, Expr? Step) : Expr(Line);
internal sealed record CallExpr(int Line, Expr Target, List<Expr> Args, List<(string Name, Expr Value)> Kwargs) : Expr(Line);
internal sealed record FilterExpr(int Line, Expr Target, string Name, List<Expr> Args, List<(string Name, Expr Value)> Kwargs) : Expr(Line);
internal sealed record TestExpr(int Line, Expr Target, string Name, List<Expr> Args, bool Negated) : Expr(Line);
internal sealed record UnaryExpr(int Line, string Op, Expr Operand) : Expr(Line);
internal sealed record BinaryExpr(int Line, string Op, Expr Left, Expr Right) : Expr(Line);
internal sealed record CondExpr(int Line, Expr Cond, Expr Then, Expr? Else) : Expr(Line);
