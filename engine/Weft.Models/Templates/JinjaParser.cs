using System.Globalization;

namespace Weft.Models.Templates;

/// <summary>Recursive-descent parser from <see cref="JinjaLexer"/> tokens to the template AST.</summary>
internal sealed class JinjaParser
{
    private readonly List<Tok> _t;
    private int _p;

    private JinjaParser(List<Tok> tokens) => _t = tokens;

    public static List<Node> Parse(List<Tok> tokens)
    {
        var parser = new JinjaParser(tokens);
        List<Node> body = parser.ParseBody(out string? end);
        if (end is not null)
        {
            throw new TemplateException($"line {parser.Peek.Line}: unexpected '{{% {end} %}}'");
        }
        return body;
    }

    private Tok Peek => _t[_p];
    private Tok Next() => _t[_p++];

    private bool IsOp(string op) => Peek.Kind == TokKind.Op && Peek.Value == op;
    private bool IsName(string name) => Peek.Kind == TokKind.Name && Peek.Value == name;

    private void ExpectOp(string op)
    {
        if (!IsOp(op))
        {
            throw Error($"expected '{op}'");
        }
        _p++;
    }

    private void ExpectName(string name)
    {
        if (!IsName(name))
        {
            throw Error($"expected '{name}'");
        }
        _p++;
    }

    private string ExpectIdent()
    {
        if (Peek.Kind != TokKind.Name)
        {
            throw Error("expected a name");
        }
        return Next().Value;
    }

    private void Expect(TokKind kind)
    {
        if (Peek.Kind != kind)
        {
            throw Error(kind switch { TokKind.StmtClose => "expected '%}'", TokKind.ExprClose => "expected '}}'", _ => $"expected {kind}" });
        }
        _p++;
    }

    private TemplateException Error(string msg)
    {
        string near = Peek.Kind switch { TokKind.End => "end of template", TokKind.StmtClose => "'%}'", TokKind.ExprClose => "'}}'", _ => $"'{Peek.Value}'" };
        return new TemplateException($"line {Peek.Line}: {msg} near {near}");
    }

    // Parses nodes until an unknown block keyword (returned in `end`, tokens left at the keyword) or the end.
    private List<Node> ParseBody(out string? end)
    {
        var nodes = new List<Node>();
        while (true)
        {
            Tok t = Peek;
            switch (t.Kind)
            {
                case TokKind.End:
                    end = null;
                    return nodes;
                case TokKind.Text:
                    _p++;
                    nodes.Add(new TextNode(t.Line, t.Value));
                    break;
                case TokKind.ExprOpen:
                    _p++;
                    Expr e = ParseExpr();
                    Expect(TokKind.ExprClose);
                    nodes.Add(new OutputNode(t.Line, e));
                    break;
                case TokKind.StmtOpen:
                    _p++;
                    string kw = Peek.Kind == TokKind.Name ? Peek.Value : throw Error("expected a statement keyword");
                    Node? n = ParseStatement(kw);
                    if (n is null)
                    {
                        end = kw;
                        return nodes;
                    }
                    nodes.Add(n);
                    break;
                default:
                    throw Error("unexpected token");
            }
        }
    }

    private List<Node> ParseUntil(params string[] ends)
    {
        List<Node> body = ParseBody(out string? end);
        if (end is null || Array.IndexOf(ends, end) < 0)
        {
            throw new TemplateException($"line {Peek.Line}: expected {string.Join(" or ", ends.Select(x => "{% " + x + " %}"))}" + (end is null ? " before the end of the template" : $", found {{% {end} %}}"));
        }
        return body;
    }

    private Node? ParseStatement(string kw)
    {
        int line = Peek.Line;
        switch (kw)
        {
            case "if":
            {
                _p++;
                var branches = new List<(Expr, List<Node>)>();
                Expr cond = ParseExpr();
                Expect(TokKind.StmtClose);
                List<Node>? elseBody = null;
                while (true)
                {
                    List<Node> body = ParseUntil("elif", "else", "endif");
                    branches.Add((cond, body));
                    string which = Next().Value;
                    if (which == "elif")
                    {
                        cond = ParseExpr();
                        Expect(TokKind.StmtClose);
                        continue;
                    }
                    Expect(TokKind.StmtClose);
                    if (which == "else")
                    {
                        elseBody = ParseUntil("endif");
                        _p++;
                        Expect(TokKind.StmtClose);
                    }
                    break;
                }
                return new IfNode(line, branches, elseBody);
            }
            case "for":
            {
                _p++;
                var targets = new List<string> { ExpectIdent() };
                while (IsOp(","))
                {
                    _p++;
                    targets.Add(ExpectIdent());
                }
                ExpectName("in");
                Expr iter = ParseOr(noCondExpr: true);
                Expr? filter = null;
                bool recursive = false;
                if (IsName("if"))
                {
                    _p++;
                    filter = ParseOr(noCondExpr: true);
                }
                if (IsName("recursive"))
                {
                    _p++;
                    recursive = true;
                }
                Expect(TokKind.StmtClose);
                List<Node> body = ParseUntil("else", "endfor");
                List<Node>? elseBody = null;
                if (Next().Value == "else")
                {
                    Expect(TokKind.StmtClose);
                    elseBody = ParseUntil("endfor");
                    _p++;
                }
                Expect(TokKind.StmtClose);
                return new ForNode(line, targets, iter, filter, body, elseBody, recursive);
            }
            case "set":
            {
                _p++;
                var targets = new List<Expr> { ParsePrimaryTarget() };
                while (IsOp(","))
                {
                    _p++;
                    targets.Add(ParsePrimaryTarget());
                }
                if (IsOp("="))
                {
                    _p++;
                    Expr value = ParseTupleOrExpr();
                    Expect(TokKind.StmtClose);
                    return new SetNode(line, targets, value, null);
                }
                Expect(TokKind.StmtClose);
                List<Node> body = ParseUntil("endset");
                _p++;
                Expect(TokKind.StmtClose);
                return new SetNode(line, targets, null, body);
            }
            case "macro":
            {
                _p++;
                string name = ExpectIdent();
                ExpectOp("(");
                var ps = new List<(string, Expr?)>();
                while (!IsOp(")"))
                {
                    string pn = ExpectIdent();
                    Expr? def = null;
                    if (IsOp("="))
                    {
                        _p++;
                        def = ParseExpr();
                    }
                    ps.Add((pn, def));
                    if (!IsOp(")"))
                    {
                        ExpectOp(",");
                    }
                }
                _p++;
                Expect(TokKind.StmtClose);
                List<Node> body = ParseUntil("endmacro");
                _p++;
                Expect(TokKind.StmtClose);
                return new MacroNode(line, name, ps, body);
            }
            case "call":
            {
                _p++;
                Expr call = ParseExpr();
                Expect(TokKind.StmtClose);
                List<Node> body = ParseUntil("endcall");
                _p++;
                Expect(TokKind.StmtClose);
                return new CallBlockNode(line, call, body);
            }
            case "filter":
            {
                _p++;
                string name = ExpectIdent();
                var args = new List<Expr>();
                if (IsOp("("))
                {
                    (args, _) = ParseArgs();
                }
                Expect(TokKind.StmtClose);
                List<Node> body = ParseUntil("endfilter");
                _p++;
                Expect(TokKind.StmtClose);
                return new FilterBlockNode(line, name, args, body);
            }
            case "break":
                _p++;
                Expect(TokKind.StmtClose);
                return new BreakNode(line);
            case "continue":
                _p++;
                Expect(TokKind.StmtClose);
                return new ContinueNode(line);
            case "generation":
            case "endgeneration":
                // HF's {% generation %} marks assistant spans for training masks; it renders its body unchanged.
                _p++;
                Expect(TokKind.StmtClose);
                return new TextNode(line, "");
            default:
                return null; // an end/else keyword: the caller decides
        }
    }

    private Expr ParsePrimaryTarget()
    {
        int line = Peek.Line;
        Expr e = new NameExpr(line, ExpectIdent());
        while (IsOp(".") || IsOp("["))
        {
            if (IsOp("."))
            {
                _p++;
                e = new AttrExpr(line, e, ExpectIdent());
            }
            else
            {
                _p++;
                Expr idx = ParseExpr();
                ExpectOp("]");
                e = new IndexExpr(line, e, idx);
            }
        }
        return e;
    }

    private Expr ParseTupleOrExpr()
    {
        int line = Peek.Line;
        Expr first = ParseExpr();
        if (!IsOp(","))
        {
            return first;
        }
        var items = new List<Expr> { first };
        while (IsOp(","))
        {
            _p++;
            items.Add(ParseExpr());
        }
        return new TupleExpr(line, items);
    }

    public Expr ParseExpr() => ParseCond();

    private Expr ParseCond()
    {
        Expr e = ParseOr(noCondExpr: false);
        while (IsName("if"))
        {
            int line = Peek.Line;
            _p++;
            Expr cond = ParseOr(noCondExpr: false);
            Expr? other = null;
            if (IsName("else"))
            {
                _p++;
                other = ParseCond();
            }
            e = new CondExpr(line, cond, e, other);
        }
        return e;
    }

    private Expr ParseOr(bool noCondExpr)
    {
        Expr e = ParseAnd();
        while (IsName("or"))
        {
            int line = Next().Line;
            e = new BinaryExpr(line, "or", e, ParseAnd());
        }
        return e;
    }

    private Expr ParseAnd()
    {
        Expr e = ParseNot();
        while (IsName("and"))
        {
            int line = Next().Line;
            e = new BinaryExpr(line, "and", e, ParseNot());
        }
        return e;
    }

    private Expr ParseNot()
    {
        if (IsName("not"))
        {
            int line = Next().Line;
            return new UnaryExpr(line, "not", ParseNot());
        }
        return ParseCompare();
    }

    private Expr ParseCompare()
    {
        Expr e = ParseConcat();
        while (true)
        {
            int line = Peek.Line;
            if (Peek.Kind == TokKind.Op && Peek.Value is "==" or "!=" or "<" or ">" or "<=" or ">=")
            {
                string op = Next().Value;
                e = new BinaryExpr(line, op, e, ParseConcat());
            }
            else if (IsName("in"))
            {
                _p++;
                e = new BinaryExpr(line, "in", e, ParseConcat());
            }
            else if (IsName("not") && _t[_p + 1].Kind == TokKind.Name && _t[_p + 1].Value == "in")
            {
                _p += 2;
                e = new UnaryExpr(line, "not", new BinaryExpr(line, "in", e, ParseConcat()));
            }
            else if (IsName("is"))
            {
                _p++;
                bool neg = false;
                if (IsName("not"))
                {
                    _p++;
                    neg = true;
                }
                string test = ExpectIdent();
                var args = new List<Expr>();
                if (IsOp("("))
                {
                    (args, _) = ParseArgs();
                }
                else if (Peek.Kind is TokKind.String or TokKind.Int or TokKind.Float || (Peek.Kind == TokKind.Name && Peek.Value is not ("and" or "or" or "else" or "if" or "in" or "is" or "not")))
                {
                    args.Add(ParseConcat());
                }
                e = new TestExpr(line, e, test, args, neg);
            }
            else
            {
                return e;
            }
        }
    }

    private Expr ParseConcat()
    {
        Expr e = ParseAdd();
        while (IsOp("~"))
        {
            int line = Next().Line;
            e = new BinaryExpr(line, "~", e, ParseAdd());
        }
        return e;
    }

    private Expr ParseAdd()
    {
        Expr e = ParseMul();
        while (IsOp("+") || IsOp("-"))
        {
            Tok op = Next();
            e = new BinaryExpr(op.Line, op.Value, e, ParseMul());
        }
        return e;
    }

    private Expr ParseMul()
    {
        Expr e = ParseUnary();
        while (IsOp("*") || IsOp("/") || IsOp("//") || IsOp("%"))
        {
            Tok op = Next();
            e = new BinaryExpr(op.Line, op.Value, e, ParseUnary());
        }
        return e;
    }

    private Expr ParseUnary()
    {
        if (IsOp("-") || IsOp("+"))
        {
            Tok op = Next();
            return new UnaryExpr(op.Line, op.Value, ParseUnary());
        }
        return ParsePow();
    }

    private Expr ParsePow()
    {
        Expr e = ParseFilters(ParsePostfix(ParsePrimary()));
        if (IsOp("**"))
        {
            int line = Next().Line;
            return new BinaryExpr(line, "**", e, ParseUnary());
        }
        return e;
    }

    private Expr ParseFilters(Expr e)
    {
        while (IsOp("|"))
        {
            int line = Next().Line;
            string name = ExpectIdent();
            var args = new List<Expr>();
            var kwargs = new List<(string, Expr)>();
            if (IsOp("("))
            {
                (args, kwargs) = ParseArgs();
            }
            e = ParsePostfix(new FilterExpr(line, e, name, args, kwargs));
        }
        return e;
    }

    private (List<Expr>, List<(string, Expr)>) ParseArgs()
    {
        ExpectOp("(");
        var args = new List<Expr>();
        var kwargs = new List<(string, Expr)>();
        while (!IsOp(")"))
        {
            if (Peek.Kind == TokKind.Name && _t[_p + 1].Kind == TokKind.Op && _t[_p + 1].Value == "=")
            {
                string name = Next().Value;
                _p++;
                kwargs.Add((name, ParseExpr()));
            }
            else
            {
                args.Add(ParseExpr());
            }
            if (!IsOp(")"))
            {
                ExpectOp(",");
            }
        }
        _p++;
        return (args, kwargs);
    }

    private Expr ParsePostfix(Expr e)
    {
        while (true)
        {
            int line = Peek.Line;
            if (IsOp("."))
            {
                _p++;
                e = new AttrExpr(line, e, Peek.Kind == TokKind.Int ? Next().Value : ExpectIdent());
            }
            else if (IsOp("["))
            {
                _p++;
                Expr? start = null, stop = null, step = null;
                bool slice = false;
                if (!IsOp(":"))
                {
                    start = ParseExpr();
                }
                if (IsOp(":"))
                {
                    slice = true;
                    _p++;
                    if (!IsOp(":") && !IsOp("]"))
                    {
                        stop = ParseExpr();
                    }
                    if (IsOp(":"))
                    {
                        _p++;
                        if (!IsOp("]"))
                        {
                            step = ParseExpr();
                        }
                    }
                }
                ExpectOp("]");
                e = slice ? new SliceExpr(line, e, start, stop, step) : new IndexExpr(line, e, start!);
            }
            else if (IsOp("("))
            {
                (List<Expr> args, List<(string, Expr)> kwargs) = ParseArgs();
                e = new CallExpr(line, e, args, kwargs);
            }
            else
            {
                return e;
            }
        }
    }

    private Expr ParsePrimary()
    {
        Tok t = Peek;
        switch (t.Kind)
        {
            case TokKind.String:
            {
                _p++;
                string s = t.Value;
                while (Peek.Kind == TokKind.String)
                {
                    s += Next().Value; // adjacent literals concatenate
                }
                return new Literal(t.Line, s);
            }
            case TokKind.Int:
                _p++;
                return new Literal(t.Line, long.Parse(t.Value, CultureInfo.InvariantCulture));
            case TokKind.Float:
                _p++;
                return new Literal(t.Line, double.Parse(t.Value, CultureInfo.InvariantCulture));
            case TokKind.Name:
                _p++;
                return t.Value switch
                {
                    "true" or "True" => new Literal(t.Line, true),
                    "false" or "False" => new Literal(t.Line, false),
                    "none" or "None" => new Literal(t.Line, null),
                    _ => new NameExpr(t.Line, t.Value),
                };
            case TokKind.Op when t.Value == "(":
            {
                _p++;
                if (IsOp(")"))
                {
                    _p++;
                    return new TupleExpr(t.Line, new List<Expr>());
                }
                Expr e = ParseExpr();
                if (IsOp(","))
                {
                    var items = new List<Expr> { e };
                    while (IsOp(","))
                    {
                        _p++;
                        if (IsOp(")")) break;
                        items.Add(ParseExpr());
                    }
                    ExpectOp(")");
                    return new TupleExpr(t.Line, items);
                }
                ExpectOp(")");
                return e;
            }
            case TokKind.Op when t.Value == "[":
            {
                _p++;
                var items = new List<Expr>();
                while (!IsOp("]"))
                {
                    items.Add(ParseExpr());
                    if (!IsOp("]"))
                    {
                        ExpectOp(",");
                    }
                }
                _p++;
                return new ListExpr(t.Line, items);
            }
            case TokKind.Op when t.Value == "{":
            {
                _p++;
                var items = new List<(Expr, Expr)>();
                while (!IsOp("}"))
                {
                    Expr k = ParseExpr();
                    ExpectOp(":");
                    items.Add((k, ParseExpr()));
                    if (!IsOp("}"))
                    {
                        ExpectOp(",");
                    }
                }
                _p++;
                return new DictExpr(t.Line, items);
            }
            default:
                throw Error("expected an expression");
        }
    }
}
