using System.Globalization;
using System.Text;

namespace Weft.Models.Templates;

/// <summary>
/// A compiled Jinja template, implementing the subset real chat and prompt templates use: if/elif/else, for (with
/// <c>loop</c>, else, inline filter, break/continue), set (incl. namespace attributes and block set), macros and call
/// blocks, filter blocks, expressions with Python semantics, filters (trim, length, tojson, upper, lower, replace, join,
/// selectattr, map, default, ...), tests (defined, none, string, ...), string/list/dict methods and the globals
/// <c>range</c>, <c>namespace</c>, <c>raise_exception</c>, <c>strftime_now</c>. Whitespace follows Hugging Face's chat
/// environment (<c>trim_blocks</c> and <c>lstrip_blocks</c> on) unless told otherwise.
/// </summary>
/// <example>
/// <code>
/// var t = JinjaTemplate.Parse("{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}");
/// string s = t.Render(new Dictionary&lt;string, object?&gt; { ["messages"] = new[] { new { role = "user", content = "hi" } } });
/// </code>
/// </example>
public sealed class JinjaTemplate
{
    private readonly List<Node> _body;

    private JinjaTemplate(List<Node> body) => _body = body;

    /// <summary>Parses a template.</summary>
    /// <exception cref="TemplateException">A syntax error, with its line.</exception>
    public static JinjaTemplate Parse(string source, bool trimBlocks = true, bool lstripBlocks = true) =>
        new(JinjaParser.Parse(JinjaLexer.Lex(source, trimBlocks, lstripBlocks)));

    /// <summary>Renders with the given variables (host values: strings, numbers, bools, lists, dictionaries, JSON, records).</summary>
    /// <exception cref="TemplateException">An evaluation error or a <c>raise_exception</c> call, with its line.</exception>
    public string Render(IReadOnlyDictionary<string, object?> variables)
    {
        var globals = new Dictionary<string, object?>();
        foreach (KeyValuePair<string, object?> kv in variables)
        {
            globals[kv.Key] = JinjaValues.From(kv.Value);
        }
        var sb = new StringBuilder();
        var ctx = new Scope(globals, null);
        try
        {
            Exec(_body, ctx, sb);
        }
        catch (LoopSignal)
        {
            throw new TemplateException("break/continue outside a loop");
        }
        return sb.ToString();
    }

    private sealed class Scope(Dictionary<string, object?> vars, Scope? parent)
    {
        public Dictionary<string, object?> Vars { get; } = vars;
        public Scope? Parent { get; } = parent;

        public bool TryGet(string name, out object? value)
        {
            for (Scope? s = this; s is not null; s = s.Parent)
            {
                if (s.Vars.TryGetValue(name, out value))
                {
                    return true;
                }
            }
            value = null;
            return false;
        }
    }

    private sealed class LoopSignal(bool isBreak) : Exception
    {
        public bool IsBreak { get; } = isBreak;
    }

    private static TemplateException Err(int line, string msg) => new($"line {line}: {msg}");

    private void Exec(List<Node> nodes, Scope scope, StringBuilder sb)
    {
        foreach (Node n in nodes)
        {
            switch (n)
            {
                case TextNode t:
                    sb.Append(t.Text);
                    break;
                case OutputNode o:
                    sb.Append(JinjaValues.Str(Eval(o.Expr, scope)));
                    break;
                case IfNode i:
                {
                    bool done = false;
                    foreach ((Expr cond, List<Node> body) in i.Branches)
                    {
                        if (JinjaValues.Truthy(Eval(cond, scope)))
                        {
                            Exec(body, scope, sb);
                            done = true;
                            break;
                        }
                    }
                    if (!done && i.Else is not null)
                    {
                        Exec(i.Else, scope, sb);
                    }
                    break;
                }
                case ForNode f:
                    ExecFor(f, scope, sb);
                    break;
                case SetNode s:
                {
                    object? value;
                    if (s.Body is not null)
                    {
                        var inner = new StringBuilder();
                        Exec(s.Body, scope, inner);
                        value = inner.ToString();
                    }
                    else
                    {
                        value = Eval(s.Value!, scope);
                    }
                    if (s.Targets.Count == 1)
                    {
                        Assign(s.Targets[0], value, scope);
                    }
                    else
                    {
                        List<object?> items = Iterate(value, s.Line);
                        if (items.Count != s.Targets.Count)
                        {
                            throw Err(s.Line, $"cannot unpack {items.Count} values into {s.Targets.Count} names");
                        }
                        for (int k = 0; k < items.Count; k++)
                        {
                            Assign(s.Targets[k], items[k], scope);
                        }
                    }
                    break;
                }
                case MacroNode m:
                    scope.Vars[m.Name] = MakeMacro(m, scope);
                    break;
                case CallBlockNode c:
                {
                    if (c.Call is not CallExpr call)
                    {
                        throw Err(c.Line, "{% call %} needs a macro call");
                    }
                    var caller = new JinjaCallable("caller", (_, _) =>
                    {
                        var inner = new StringBuilder();
                        Exec(c.Body, new Scope(new Dictionary<string, object?>(), scope), inner);
                        return inner.ToString();
                    });
                    object? target = Eval(call.Target, scope);
                    (List<object?> args, Dictionary<string, object?> kwargs) = EvalArgs(call.Args, call.Kwargs, scope);
                    kwargs["caller"] = caller;
                    sb.Append(JinjaValues.Str(Invoke(target, args, kwargs, c.Line)));
                    break;
                }
                case FilterBlockNode fb:
                {
                    var inner = new StringBuilder();
                    Exec(fb.Body, scope, inner);
                    var args = fb.Args.Select(a => Eval(a, scope)).ToList();
                    sb.Append(JinjaValues.Str(JinjaFilters.Apply(fb.Filter, inner.ToString(), args, new Dictionary<string, object?>(), fb.Line, this)));
                    break;
                }
                case BreakNode:
                    throw new LoopSignal(true);
                case ContinueNode:
                    throw new LoopSignal(false);
                default:
                    throw new InvalidOperationException("unknown node " + n.GetType().Name);
            }
        }
    }

    private void Assign(Expr target, object? value, Scope scope)
    {
        switch (target)
        {
            case NameExpr ne:
                scope.Vars[ne.Name] = value;
                break;
            case AttrExpr ae:
            {
                object? obj = Eval(ae.Target, scope);
                if (obj is JinjaNamespace ns)
                {
                    ns.Attrs[ae.Name] = value;
                }
                else if (obj is Dictionary<string, object?> d)
                {
                    d[ae.Name] = value;
                }
                else
                {
                    throw Err(ae.Line, $"cannot set attribute '{ae.Name}' on {TypeName(obj)} (use a namespace)");
                }
                break;
            }
            case IndexExpr ie:
            {
                object? obj = Eval(ie.Target, scope);
                object? key = Eval(ie.Index, scope);
                if (obj is Dictionary<string, object?> d)
                {
                    d[JinjaValues.Str(key)] = value;
                }
                else
                {
                    throw Err(ie.Line, $"cannot assign into {TypeName(obj)}");
                }
                break;
            }
            default:
                throw Err(target.Line, "invalid assignment target");
        }
    }

    private JinjaCallable MakeMacro(MacroNode m, Scope defScope) => new(m.Name, (args, kwargs) =>
    {
        var vars = new Dictionary<string, object?>();
        for (int i = 0; i < m.Params.Count; i++)
        {
            (string name, Expr? def) = m.Params[i];
            if (i < args.Count)
            {
                vars[name] = args[i];
            }
            else if (kwargs.TryGetValue(name, out object? kv))
            {
                vars[name] = kv;
            }
            else
            {
                vars[name] = def is null ? new Undefined(name) : Eval(def, defScope);
            }
        }
        if (kwargs.TryGetValue("caller", out object? caller))
        {
            vars["caller"] = caller;
        }
        vars["varargs"] = args.Skip(m.Params.Count).ToList();
        var sb = new StringBuilder();
        Exec(m.Body, new Scope(vars, defScope), sb);
        return sb.ToString();
    });

    private void ExecFor(ForNode f, Scope scope, StringBuilder sb)
    {
        object? iterable = Eval(f.Iter, scope);
        List<object?> items = Iterate(iterable, f.Line);
        if (f.Filter is not null)
        {
            var filtered = new List<object?>();
            foreach (object? item in items)
            {
                var probe = new Scope(new Dictionary<string, object?>(), scope);
                Bind(f, probe, item);
                if (JinjaValues.Truthy(Eval(f.Filter, probe)))
                {
                    filtered.Add(item);
                }
            }
            items = filtered;
        }
        if (items.Count == 0)
        {
            if (f.Else is not null)
            {
                Exec(f.Else, scope, sb);
            }
            return;
        }
        for (int i = 0; i < items.Count; i++)
        {
            var inner = new Scope(new Dictionary<string, object?>(), scope);
            Bind(f, inner, items[i]);
            int idx = i;
            var loop = new Dictionary<string, object?>
            {
                ["index"] = (long)(i + 1),
                ["index0"] = (long)i,
                ["revindex"] = (long)(items.Count - i),
                ["revindex0"] = (long)(items.Count - i - 1),
                ["first"] = i == 0,
                ["last"] = i == items.Count - 1,
                ["length"] = (long)items.Count,
                ["previtem"] = i > 0 ? items[i - 1] : new Undefined("previtem"),
                ["nextitem"] = i < items.Count - 1 ? items[i + 1] : new Undefined("nextitem"),
                ["cycle"] = new JinjaCallable("cycle", (a, _) => a.Count == 0 ? null : a[idx % a.Count]),
            };
            inner.Vars["loop"] = loop;
            try
            {
                Exec(f.Body, inner, sb);
            }
            catch (LoopSignal sig)
            {
                if (sig.IsBreak)
                {
                    break;
                }
            }
        }
    }

    private void Bind(ForNode f, Scope s, object? item)
    {
        if (f.Targets.Count == 1)
        {
            s.Vars[f.Targets[0]] = item;
            return;
        }
        List<object?> parts = Iterate(item, f.Line);
        if (parts.Count != f.Targets.Count)
        {
            throw Err(f.Line, $"cannot unpack {parts.Count} values into {f.Targets.Count} loop variables");
        }
        for (int k = 0; k < parts.Count; k++)
        {
            s.Vars[f.Targets[k]] = parts[k];
        }
    }

    internal static List<object?> Iterate(object? v, int line) => v switch
    {
        List<object?> l => l,
        Dictionary<string, object?> d => d.Keys.Cast<object?>().ToList(),
        string s => s.EnumerateRunes().Select(r => (object?)r.ToString()).ToList(),
        Undefined or null => new List<object?>(),
        _ => throw Err(line, $"{TypeName(v)} is not iterable"),
    };

    internal static string TypeName(object? v) => v switch
    {
        null => "none",
        Undefined u => $"undefined value '{u.Name}'",
        string => "string",
        bool => "boolean",
        long => "integer",
        double => "float",
        List<object?> => "list",
        Dictionary<string, object?> => "dict",
        JinjaNamespace => "namespace",
        JinjaCallable => "function",
        _ => v.GetType().Name,
    };

    private (List<object?>, Dictionary<string, object?>) EvalArgs(List<Expr> args, List<(string Name, Expr Value)> kwargs, Scope scope)
    {
        var a = new List<object?>(args.Count);
        foreach (Expr e in args)
        {
            a.Add(Eval(e, scope));
        }
        var k = new Dictionary<string, object?>();
        foreach ((string name, Expr value) in kwargs)
        {
            k[name] = Eval(value, scope);
        }
        return (a, k);
    }

    internal object? Invoke(object? target, List<object?> args, Dictionary<string, object?> kwargs, int line)
    {
        if (target is JinjaCallable c)
        {
            return c.Invoke(args, kwargs);
        }
        throw Err(line, $"{TypeName(target)} is not callable");
    }

    private object? Eval(Expr e, Scope scope)
    {
        switch (e)
        {
            case Literal l:
                return l.Value;
            case NameExpr n:
                if (scope.TryGet(n.Name, out object? v))
                {
                    return v;
                }
                return Globals(n.Name, n.Line);
            case ListExpr le:
                return le.Items.Select(x => Eval(x, scope)).ToList();
            case TupleExpr te:
                return te.Items.Select(x => Eval(x, scope)).ToList();
            case DictExpr de:
            {
                var d = new Dictionary<string, object?>();
                foreach ((Expr k, Expr val) in de.Items)
                {
                    d[JinjaValues.Str(Eval(k, scope))] = Eval(val, scope);
                }
                return d;
            }
            case AttrExpr ae:
                return GetAttr(Eval(ae.Target, scope), ae.Name, ae.Line);
            case IndexExpr ie:
                return GetItem(Eval(ie.Target, scope), Eval(ie.Index, scope), ie.Line);
            case SliceExpr se:
                return Slice(Eval(se.Target, scope), se.Start is null ? null : Eval(se.Start, scope), se.Stop is null ? null : Eval(se.Stop, scope), se.Step is null ? null : Eval(se.Step, scope), se.Line);
            case CallExpr ce:
            {
                object? target = Eval(ce.Target, scope);
                (List<object?> args, Dictionary<string, object?> kwargs) = EvalArgs(ce.Args, ce.Kwargs, scope);
                return Invoke(target, args, kwargs, ce.Line);
            }
            case FilterExpr fe:
            {
                object? target = Eval(fe.Target, scope);
                (List<object?> args, Dictionary<string, object?> kwargs) = EvalArgs(fe.Args, fe.Kwargs, scope);
                return JinjaFilters.Apply(fe.Name, target, args, kwargs, fe.Line, this);
            }
            case TestExpr te:
            {
                object? target = te.Name == "defined" || te.Name == "undefined" ? EvalOrUndefined(te.Target, scope) : Eval(te.Target, scope);
                var args = te.Args.Select(a => Eval(a, scope)).ToList();
                bool r = JinjaFilters.Test(te.Name, target, args, te.Line);
                return te.Negated ? !r : r;
            }
            case UnaryExpr ue:
            {
                object? v2 = Eval(ue.Operand, scope);
                return ue.Op switch
                {
                    "not" => !JinjaValues.Truthy(v2),
                    "-" => v2 switch { long l => (object)(-l), double d => -d, _ => throw Err(ue.Line, $"cannot negate {TypeName(v2)}") },
                    "+" => v2,
                    _ => throw Err(ue.Line, "unknown unary operator " + ue.Op),
                };
            }
            case BinaryExpr be:
            {
                if (be.Op == "and")
                {
                    object? l = Eval(be.Left, scope);
                    return JinjaValues.Truthy(l) ? Eval(be.Right, scope) : l;
                }
                if (be.Op == "or")
                {
                    object? l = Eval(be.Left, scope);
                    return JinjaValues.Truthy(l) ? l : Eval(be.Right, scope);
                }
                return JinjaOps.Binary(be.Op, Eval(be.Left, scope), Eval(be.Right, scope), be.Line);
            }
            case CondExpr c:
                return JinjaValues.Truthy(Eval(c.Cond, scope)) ? Eval(c.Then, scope) : c.Else is null ? new Undefined("else") : Eval(c.Else, scope);
            default:
                throw Err(e.Line, "unknown expression");
        }
    }

    private object? EvalOrUndefined(Expr e, Scope scope)
    {
        try
        {
            return Eval(e, scope);
        }
        catch (TemplateException)
        {
            return new Undefined("?");
        }
    }

    private static object? Globals(string name, int line) => name switch
    {
        "range" => new JinjaCallable("range", (a, _) =>
        {
            long start = 0, stop, step = 1;
            if (a.Count == 1) stop = JinjaOps.ToLong(a[0], line);
            else if (a.Count >= 2) { start = JinjaOps.ToLong(a[0], line); stop = JinjaOps.ToLong(a[1], line); if (a.Count > 2) step = JinjaOps.ToLong(a[2], line); }
            else throw Err(line, "range() needs 1 to 3 arguments");
            if (step == 0) throw Err(line, "range() step must not be zero");
            var r = new List<object?>();
            for (long i = start; step > 0 ? i < stop : i > stop; i += step)
            {
                r.Add(i);
                if (r.Count > 10_000_000) throw Err(line, "range() too large");
            }
            return r;
        }),
        "namespace" => new JinjaCallable("namespace", (a, k) =>
        {
            var ns = new JinjaNamespace();
            foreach (object? x in a)
            {
                if (x is Dictionary<string, object?> d) foreach (KeyValuePair<string, object?> kv in d) ns.Attrs[kv.Key] = kv.Value;
            }
            foreach (KeyValuePair<string, object?> kv in k) ns.Attrs[kv.Key] = kv.Value;
            return ns;
        }),
        "dict" => new JinjaCallable("dict", (a, k) =>
        {
            var d = new Dictionary<string, object?>();
            foreach (object? x in a)
            {
                if (x is Dictionary<string, object?> src) foreach (KeyValuePair<string, object?> kv in src) d[kv.Key] = kv.Value;
            }
            foreach (KeyValuePair<string, object?> kv in k) d[kv.Key] = kv.Value;
            return d;
        }),
        "raise_exception" => new JinjaCallable("raise_exception", (a, _) =>
            throw new TemplateException($"line {line}: template raised an exception: {(a.Count > 0 ? JinjaValues.Str(a[0]) : "")}")),
        "strftime_now" => new JinjaCallable("strftime_now", (a, _) => JinjaOps.Strftime(DateTime.Now, a.Count > 0 ? JinjaValues.Str(a[0]) : "%Y-%m-%d")),
        "lipsum" or "cycler" or "joiner" => throw Err(line, $"'{name}' is not supported"),
        _ => new Undefined(name),
    };

    internal static object? GetAttr(object? obj, string name, int line)
    {
        switch (obj)
        {
            case Dictionary<string, object?> d:
                if (d.TryGetValue(name, out object? v)) return v;
                return (object?)JinjaMethods.DictMethod(d, name, line) ?? new Undefined(name);
            case JinjaNamespace ns:
                return ns.Attrs.TryGetValue(name, out object? nv) ? nv : new Undefined(name);
            case string s:
                return (object?)JinjaMethods.StringMethod(s, name, line) ?? new Undefined(name);
            case List<object?> l:
                return (object?)JinjaMethods.ListMethod(l, name, line) ?? new Undefined(name);
            case Undefined u:
                throw Err(line, $"'{u.Name}' is undefined (reading its attribute '{name}')");
            case null:
                throw Err(line, $"none has no attribute '{name}'");
            default:
                return new Undefined(name);
        }
    }

    internal static object? GetItem(object? obj, object? key, int line)
    {
        switch (obj)
        {
            case List<object?> l when key is long or bool:
            {
                long i = JinjaOps.ToLong(key, line);
                if (i < 0) i += l.Count;
                return i >= 0 && i < l.Count ? l[(int)i] : new Undefined($"[{key}]");
            }
            case string s when key is long:
            {
                var runes = s.EnumerateRunes().ToList();
                long i = (long)key;
                if (i < 0) i += runes.Count;
                return i >= 0 && i < runes.Count ? runes[(int)i].ToString() : new Undefined($"[{key}]");
            }
            case Dictionary<string, object?> d:
                return d.TryGetValue(JinjaValues.Str(key), out object? v) ? v : new Undefined(JinjaValues.Str(key));
            case JinjaNamespace ns:
                return ns.Attrs.TryGetValue(JinjaValues.Str(key), out object? nv) ? nv : new Undefined(JinjaValues.Str(key));
            case Undefined u:
                throw Err(line, $"'{u.Name}' is undefined (indexing it with {JinjaValues.Repr(key)})");
            case null:
                throw Err(line, "none is not subscriptable");
            default:
                if (key is string name) return GetAttr(obj, name, line);
                throw Err(line, $"{TypeName(obj)} cannot be indexed with {TypeName(key)}");
        }
    }

    private static object? Slice(object? obj, object? start, object? stop, object? step, int line)
    {
        long st = step is null ? 1 : JinjaOps.ToLong(step, line);
        if (st == 0) throw Err(line, "slice step cannot be zero");
        List<object?> items = obj switch
        {
            List<object?> l => l,
            string s => s.EnumerateRunes().Select(r => (object?)r.ToString()).ToList(),
            _ => throw Err(line, $"{TypeName(obj)} cannot be sliced"),
        };
        int n = items.Count;
        long Norm(object? v, long def)
        {
            if (v is null) return def;
            long x = JinjaOps.ToLong(v, line);
            if (x < 0) x += n;
            return st > 0 ? Math.Clamp(x, 0, n) : Math.Clamp(x, -1, n - 1);
        }
        long a = Norm(start, st > 0 ? 0 : n - 1);
        long b = Norm(stop, st > 0 ? n : -1);
        var r = new List<object?>();
        for (long i = a; st > 0 ? i < b : i > b; i += st) r.Add(items[(int)i]);
        return obj is string ? string.Concat(r.Select(x => (string)x!)) : r;
    }
}
