//! Article Markdown to HTML that is safe to show: pulldown-cmark renders (raw HTML in the
//! source is kept as text-level HTML), then ammonia keeps only harmless tags and attributes —
//! no script, no event handlers, no `javascript:` or `data:` links, no styles — and marks every
//! link `rel="noopener noreferrer nofollow"`.

use pulldown_cmark::{html, Options, Parser};

/// Renders `source` (Markdown) to sanitized HTML.
pub fn to_html(source: &str) -> String {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES;
    let mut rendered = String::with_capacity(source.len() * 3 / 2);
    html::push_html(&mut rendered, Parser::new_ext(source, options));
    ammonia::Builder::default()
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("noopener noreferrer nofollow"))
        .add_tag_attributes("input", ["type", "checked", "disabled"])
        .add_tags(["input"])
        .clean(&rendered)
        .to_string()
}

/// The first `max` characters of the text of `source`, for summaries in lists.
pub fn excerpt(source: &str, max: usize) -> String {
    let mut text = String::new();
    for event in Parser::new(source) {
        match event {
            pulldown_cmark::Event::Text(t) | pulldown_cmark::Event::Code(t) => {
                text.push_str(&t);
            }
            pulldown_cmark::Event::SoftBreak
            | pulldown_cmark::Event::HardBreak
            | pulldown_cmark::Event::End(_) => text.push(' '),
            _ => {}
        }
        if text.len() > max * 4 {
            break;
        }
    }
    let collapsed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().count() > max {
        let mut cut: String = collapsed.chars().take(max).collect();
        cut.push('…');
        cut
    } else {
        collapsed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Payloads from the OWASP XSS filter evasion cheat sheet and Markdown-specific tricks;
    /// none may leave a script, an event handler or a dangerous URL in the output.
    const PAYLOADS: &[&str] = &[
        "<script>alert(1)</script>",
        "<SCRIPT SRC=http://xss.example/xss.js></SCRIPT>",
        "<IMG SRC=\"javascript:alert('XSS');\">",
        "<IMG SRC=javascript:alert('XSS')>",
        "<IMG SRC=JaVaScRiPt:alert('XSS')>",
        "<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>",
        "<a onmouseover=\"alert(document.cookie)\">xxs link</a>",
        "<IMG \"\"\"><SCRIPT>alert(\"XSS\")</SCRIPT>\"\\>",
        "<IMG SRC=/ onerror=\"alert(String.fromCharCode(88,83,83))\"></img>",
        "<img src=x onerror=\"&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116&#0000040&#0000039&#0000088&#0000083&#0000083&#0000039&#0000041\">",
        "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;>",
        "<IMG SRC=\"jav\tascript:alert('XSS');\">",
        "<IMG SRC=\" &#14;  javascript:alert('XSS');\">",
        "<SCRIPT/XSS SRC=\"http://xss.example/xss.js\"></SCRIPT>",
        "<BODY onload!#$%&()*~+-_.,:;?@[/|\\]^`=alert(\"XSS\")>",
        "<<SCRIPT>alert(\"XSS\");//\\<</SCRIPT>",
        "<iframe src=http://xss.example/scriptlet.html <",
        "<svg/onload=alert('XSS')>",
        "<svg><script>alert(1)</script></svg>",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        "<STYLE>li {list-style-image: url(\"javascript:alert('XSS')\");}</STYLE><UL><LI>XSS</br>",
        "<META HTTP-EQUIV=\"refresh\" CONTENT=\"0;url=javascript:alert('XSS');\">",
        "<object data=\"javascript:alert(1)\"></object>",
        "<embed src=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">",
        "<form action=\"javascript:alert(1)\"><input type=submit></form>",
        "<details open ontoggle=alert(1)>",
        "<a href=\"&#x6A;avascript:alert(1)\">x</a>",
        "[click](javascript:alert(1))",
        "[click](JAVASCRIPT:alert(1))",
        "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "![x](javascript:alert(1))",
        "[x](vbscript:msgbox(1))",
        "<javascript:alert(1)>",
        "[a](<javascript:alert(1)>)",
        "[ref]\n\n[ref]: javascript:alert(1)",
        "<div style=\"background:url(javascript:alert(1))\">x</div>",
        "<a href=\"http://ok.example\" onclick=\"alert(1)\">ok</a>",
        "<base href=\"javascript:alert(1)//\">",
        "<link rel=stylesheet href=javascript:alert(1)>",
        "<input autofocus onfocus=alert(1)>",
    ];

    /// Tags, attributes and URL schemes that must never reach a page.
    const FORBIDDEN: &[&str] = &[
        "<script",
        "<iframe",
        "<object",
        "<embed",
        "<style",
        "<meta",
        "<base",
        "<link",
        "<form",
        "<svg",
        "<math",
        "<body",
        " onload",
        " onerror",
        " onmouseover",
        " onclick",
        " onfocus",
        " ontoggle",
        " style=",
        "href=\"javascript",
        "src=\"javascript",
        "href=\"data:",
        "src=\"data:",
        "href=\"vbscript",
    ];

    fn dangerous(html: &str) -> Option<&'static str> {
        let lower = html.to_ascii_lowercase();
        FORBIDDEN.iter().copied().find(|bad| lower.contains(bad))
    }

    #[test]
    fn no_payload_survives() {
        for payload in PAYLOADS {
            let html = to_html(payload);
            assert_eq!(dangerous(&html), None, "{payload} became {html}");
        }
    }

    #[test]
    fn the_checker_itself_sees_danger() {
        // The same checker on unsanitized output must object, or the test above proves nothing.
        let mut raw = String::new();
        html::push_html(
            &mut raw,
            Parser::new("<script>alert(1)</script> [x](javascript:alert(1))"),
        );
        assert!(dangerous(&raw).is_some(), "{raw}");
    }

    #[test]
    fn ordinary_markdown_renders() {
        let html = to_html("## Steps\n\n1. Open **Settings**\n2. Run `ipconfig /flushdns`\n\n[Guide](https://ok.example/guide)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done");
        assert!(html.contains("<h2>Steps</h2>"), "{html}");
        assert!(html.contains("<strong>Settings</strong>"));
        assert!(html.contains("<code>ipconfig /flushdns</code>"));
        assert!(html.contains("href=\"https://ok.example/guide\""));
        assert!(html.contains("rel=\"noopener noreferrer nofollow\""));
        assert!(html.contains("<table>"));
        assert!(html.contains("type=\"checkbox\""));
    }

    #[test]
    fn excerpts_are_plain_text() {
        assert_eq!(
            excerpt("## Title\n\nSome **bold** text", 100),
            "Title Some bold text"
        );
        assert_eq!(excerpt("abcdef", 3), "abc…");
    }
}
