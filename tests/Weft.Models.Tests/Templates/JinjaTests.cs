using Weft.Models.Templates;

namespace Weft.Models.Tests.Templates;

public class JinjaTests
{
    private static string R(string src, Dictionary<string, object?>? vars = null) =>
        JinjaTemplate.Parse(src).Render(vars ?? new Dictionary<string, object?>());

    [TestCase("{{ 1 + 2 * 3 }}", "7")]
    [TestCase("{{ 7 // 2 }} {{ 7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ -7 // 2 }}", "3 1 3.5 1024 -4")]
    [TestCase("{{ 'a' ~ 1 ~ none }}", "a1None")]
    [TestCase("{{ [1, 2, 3][1:] }} {{ 'hello'[::-1] }} {{ [1,2,3][-1] }}", "[2, 3] olleh 3")]
    [TestCase("{{ 'x' if false else 'y' }}{{ 'z' if true }}", "yz")]
    [TestCase("{{ 'ab' in 'cabd' }} {{ 3 not in [1, 2] }} {{ 'k' in {'k': 1} }}", "True True True")]
    [TestCase("{{ true and 'x' }}|{{ false or 0 }}|{{ not none }}", "x|0|True")]
    [TestCase("{{ '  hi  ' | trim | upper }}|{{ 'A-B' | lower | replace('-', '+') }}", "HI|a+b")]
    [TestCase("{{ [3, 1, 2] | sort | join(',') }}|{{ ['a', 'b'] | length }}|{{ 'héllo' | length }}", "1,2,3|2|5")]
    [TestCase("{{ {'a': [1, 'x', none, true], 'b': 1.5} | tojson }}", "{\"a\": [1, \"x\", null, true], \"b\": 1.5}")]
    [TestCase("{{ {'a': 1} | tojson(indent=2) }}", "{\n  \"a\": 1\n}")]
    [TestCase("{{ missing | default('d') }}|{{ missing is defined }}|{{ none is none }}|{{ 'x' is string }}", "d|False|True|True")]
    [TestCase("{{ ' a b '.strip().split(' ') }}|{{ 'abc'.startswith('ab') }}|{{ 'a,b'.split(',') | first }}", "['a', 'b']|True|a")]
    [TestCase("{{ 'Hello {}'.format('x') }}|{{ '%s-%d' % ('a', 3) }}|{{ 'ab cd' | title }}", "Hello x|a-3|Ab Cd")]
    [TestCase("{{ range(3) | list }}|{{ range(1, 7, 2) | join }}|{{ [1, 2, 3] | sum }}|{{ [4, 9] | max }}", "[0, 1, 2]|135|6|9")]
    [TestCase("{{ \"it's\" }}|{{ ['it\\'s'] }}", "it's|[\"it's\"]")]
    public void Expressions(string src, string expected) => Assert.That(R(src), Is.EqualTo(expected));

    [Test]
    public void LoopVariablesElseAndFilter()
    {
        string s = R("{% for x in items if x > 1 %}{{ loop.index }}/{{ loop.length }}:{{ x }}{% if not loop.last %},{% endif %}{% else %}none{% endfor %}",
            new() { ["items"] = new[] { 1, 2, 3 } });
        Assert.That(s, Is.EqualTo("1/2:2,2/2:3"));
        Assert.That(R("{% for x in [] %}a{% else %}empty{% endfor %}"), Is.EqualTo("empty"));
        Assert.That(R("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}"), Is.EqualTo("a=1;b=2;"));
        Assert.That(R("{% for x in [1,2,3,4] %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}"), Is.EqualTo("13"));
        Assert.That(R("{% for x in 'ab' %}{{ loop.cycle('o', 'e') }}{{ x }}{% endfor %}"), Is.EqualTo("oaeb"));
    }

    [Test]
    public void ScopingAndNamespace()
    {
        // A plain set inside a loop does not leak out; a namespace attribute does.
        Assert.That(R("{% set x = 1 %}{% for i in [1, 2] %}{% set x = i %}{% endfor %}{{ x }}"), Is.EqualTo("1"));
        Assert.That(R("{% set ns = namespace(found=false) %}{% for i in [1, 2] %}{% if i == 2 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.found }}"), Is.EqualTo("True"));
        Assert.That(R("{% set a, b = 1, 2 %}{{ a + b }}"), Is.EqualTo("3"));
        Assert.That(R("{% set block %}x{{ 1 }}y{% endset %}[{{ block }}]"), Is.EqualTo("[x1y]"));
    }

    [Test]
    public void MacrosCallAndFilterBlocks()
    {
        Assert.That(R("{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Ann') }} {{ greet('Bob', punct='?') }}"), Is.EqualTo("Hi Ann! Hi Bob?"));
        Assert.That(R("{% macro wrap() %}<{{ caller() }}>{% endmacro %}{% call wrap() %}inner{% endcall %}"), Is.EqualTo("<inner>"));
        Assert.That(R("{% filter upper %}abc{% endfilter %}"), Is.EqualTo("ABC"));
    }

    [Test]
    public void SelectAttrAndMap()
    {
        var msgs = new[] { new { role = "system", content = "s" }, new { role = "user", content = "u1" }, new { role = "user", content = "u2" } };
        var vars = new Dictionary<string, object?> { ["messages"] = msgs };
        Assert.That(R("{{ messages | selectattr('role', 'equalto', 'user') | map(attribute='content') | join('+') }}", vars), Is.EqualTo("u1+u2"));
        Assert.That(R("{{ messages | rejectattr('role', 'eq', 'user') | list | length }}", vars), Is.EqualTo("1"));
        Assert.That(R("{{ (messages | last).content }}", vars), Is.EqualTo("u2"));
    }

    [Test]
    public void WhitespaceControl()
    {
        Assert.That(R("a  {%- if true -%}  b  {%- endif -%}  c"), Is.EqualTo("abc"));
        Assert.That(R("a {{- 'x' -}} b"), Is.EqualTo("axb"));
        // trim_blocks removes the newline after a block tag; lstrip_blocks the indentation before it.
        Assert.That(R("x\n    {% if true %}\n    y\n    {% endif %}\nz"), Is.EqualTo("x\n    y\nz"));
        Assert.That(R("{# comment #}a{% raw %}{{ not parsed }}{% endraw %}"), Is.EqualTo("a{{ not parsed }}"));
    }

    [TestCase("{% if %}", "line 1")]
    [TestCase("{% for x in y %}", "endfor")]
    [TestCase("{{ 'unterminated }}", "unterminated string")]
    [TestCase("{{ x | nosuchfilter }}", "unknown filter 'nosuchfilter'")]
    [TestCase("{% endif %}", "unexpected")]
    [TestCase("{{ 1 / 0 }}", "division by zero")]
    [TestCase("{{ missing.attr }}", "'missing' is undefined")]
    [TestCase("line1\n{{ raise_exception('boom') }}", "line 2: template raised an exception: boom")]
    public void ErrorsNameTheProblemAndLine(string src, string expected)
    {
        var ex = Assert.Throws<TemplateException>(() => R(src));
        Assert.That(ex!.Message, Does.Contain(expected));
    }
}
