/*
 * page_content.c - the brand's blocks of the landing page: logo and
 * display name, title, story, images and buttons, the trace card, and
 * the support phone and link. page.c's renderer calls page_content_block
 * for its {{c_*}} placeholders.
 *
 * Which verdict shows what is decided here, in one place: the brand's
 * marketing (logo, title, story, images, buttons) only on a genuine
 * page, so a copied, revoked or unverified code never wears the brand's
 * campaign; the display name, the trace card and the support phone and
 * link on every page, since that is where a worried consumer turns.
 *
 * Every value goes through page_escape, in HTML text or in a double-
 * quoted attribute, as in page.c. hrefs were checked by content.c
 * (https, http or tel: only) and are escaped again; the story is plain
 * text, cut into paragraphs at blank lines and lines at single
 * newlines, so HTML in it shows as text. Images are only /i/{id} of this
 * server. Calls page.c's escaping and libevent; never the store.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "sigil/page.h"
#include "sigil/store.h"
#include "sigil/util.h"

#define ZH_OFFSET_SECONDS	(8 * 3600)

enum text {
	TX_TRACE_H, TX_MADE, TX_PACKED, TX_SHIPPED, TX_RECEIVED, TX_SUPPORT_H,
	TX_CALL, TX_SUPPORT_LINK, TX_PREVIEW, TX_COUNT
};

static const char *const texts[TX_COUNT][2] = {
	[TX_TRACE_H] = { "溯源信息", "Where it has been" },
	[TX_MADE] = { "生产", "Made" },
	[TX_PACKED] = { "装箱", "Packed" },
	[TX_SHIPPED] = { "发往经销商", "Shipped to distributor" },
	[TX_RECEIVED] = { "经销商已收货", "Received by distributor" },
	[TX_SUPPORT_H] = { "品牌客服", "Brand support" },
	[TX_CALL] = { "拨打客服电话", "Call support" },
	[TX_SUPPORT_LINK] = { "联系品牌 / 举报假货",
	    "Contact the brand / report a fake" },
	[TX_PREVIEW] = { "预览：示例序列号与溯源",
	    "Preview: sample serial and trace" },
};

static int
add(struct evbuffer *out, const char *s)
{
	return evbuffer_add(out, s, strlen(s)) == 0 ? 0 : SIGIL_ENOMEM;
}

/* Literal, escaped value, literal: the shape of every element here. */
static int
wrap(struct evbuffer *out, const char *pre, const char *val,
    const char *post)
{
	int err;

	if ((err = add(out, pre)) != 0 || (err = page_escape(out, val)) != 0)
		return err;
	return add(out, post);
}

static int
present(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/* ` lang="xx"` when the content's language differs from the page's. */
static int
lang_attr(struct evbuffer *out, const char *tag, int lang)
{
	if (!present(tag) || strcmp(tag, lang == PAGE_LANG_ZH ? "zh-CN" :
	    "en") == 0)
		return 0;
	return wrap(out, " lang=\"", tag, "\"");
}

static int
image(struct evbuffer *out, const char *cls, const char *id)
{
	int err;

	if ((err = add(out, "<img class=\"")) != 0 ||
	    (err = add(out, cls)) != 0)
		return err;
	return wrap(out, "\" src=\"/i/", id, "\" alt=\"\" loading=\"lazy\">");
}

static int
block_brand(const struct page_view *v, const struct page_content *c,
    int lang, struct evbuffer *out)
{
	int genuine = v->verdict == VERDICT_GENUINE, err;

	if (!present(c->display_name) && !(genuine && present(c->logo)))
		return 0;
	if ((err = add(out, "<section class=\"brandbar\" id=\"brand\"")) != 0 ||
	    (err = lang_attr(out, c->brand_lang, lang)) != 0 ||
	    (err = add(out, ">")) != 0)
		return err;
	if (genuine && present(c->logo) &&
	    (err = image(out, "logo", c->logo)) != 0)
		return err;
	if (present(c->display_name) && (err = wrap(out,
	    "<span id=\"brand-name\">", c->display_name, "</span>")) != 0)
		return err;
	return add(out, "</section>\n");
}

/* The story: paragraphs at blank lines, <br> at single newlines. */
static int
story(struct evbuffer *out, const char *s)
{
	size_t i = 0, n = strlen(s), start;
	int err;

	while (i < n) {
		while (i < n && s[i] == '\n')
			i++;
		if (i == n)
			break;
		if ((err = add(out, "<p>")) != 0)
			return err;
		for (;;) {
			start = i;
			while (i < n && s[i] != '\n')
				i++;
			if ((err = page_escape_n(out, s + start,
			    i - start)) != 0)
				return err;
			if (i + 1 < n && s[i] == '\n' && s[i + 1] != '\n') {
				i++;
				if ((err = add(out, "<br>")) != 0)
					return err;
				continue;
			}
			break;
		}
		if ((err = add(out, "</p>")) != 0)
			return err;
	}
	return 0;
}

static int
block_story(const struct page_view *v, const struct page_content *c,
    int lang, struct evbuffer *out)
{
	int err;

	if (v->verdict != VERDICT_GENUINE || (!present(c->title) &&
	    !present(c->story) && c->nimages == 0 && c->nbuttons == 0))
		return 0;
	if ((err = add(out, "<section class=\"card\" id=\"story\"")) != 0 ||
	    (err = lang_attr(out, c->lang, lang)) != 0 ||
	    (err = add(out, ">")) != 0)
		return err;
	if (present(c->title) && (err = wrap(out, "<h2 class=\"title\" "
	    "id=\"story-title\">", c->title, "</h2>")) != 0)
		return err;
	if (present(c->story)) {
		if ((err = add(out, "<div class=\"story\" id=\"story-text\">"))
		    != 0 || (err = story(out, c->story)) != 0 ||
		    (err = add(out, "</div>")) != 0)
			return err;
	}
	if (c->nimages > 0) {
		if ((err = add(out, "<div class=\"imgs\">")) != 0)
			return err;
		for (size_t i = 0; i < c->nimages; i++)
			if ((err = image(out, "pic", c->images[i])) != 0)
				return err;
		if ((err = add(out, "</div>")) != 0)
			return err;
	}
	if (c->nbuttons > 0) {
		if ((err = add(out, "<div class=\"btns\">")) != 0)
			return err;
		for (size_t i = 0; i < c->nbuttons; i++)
			if ((err = wrap(out, "<a class=\"btn\" rel=\"noopener "
			    "noreferrer\" href=\"", c->buttons[i].href,
			    "\">")) != 0 || (err = page_escape(out,
			    c->buttons[i].label)) != 0 ||
			    (err = add(out, "</a>")) != 0)
				return err;
		if ((err = add(out, "</div>")) != 0)
			return err;
	}
	return add(out, "</section>\n");
}

/* "YYYY-MM-DD HH:MM": UTC+8 for zh, UTC (and saying so) for en. */
static void
when(int64_t t, int lang, char *buf, size_t size)
{
	time_t secs = (time_t)(t / 1000000);
	struct tm tm;

	buf[0] = '\0';
	if (lang == PAGE_LANG_ZH)
		secs += ZH_OFFSET_SECONDS;
	if (t <= 0 || gmtime_r(&secs, &tm) == NULL)
		return;
	snprintf(buf, size, "%04d-%02d-%02d %02d:%02d%s", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    lang == PAGE_LANG_ZH ? "" : " UTC");
}

static int
block_trace(const struct page_view *v, const struct page_content *c,
    int lang, struct evbuffer *out)
{
	static const int names[] = {
		[PAGE_STEP_MADE] = TX_MADE, [PAGE_STEP_PACKED] = TX_PACKED,
		[PAGE_STEP_SHIPPED] = TX_SHIPPED,
		[PAGE_STEP_RECEIVED] = TX_RECEIVED,
	};
	char t[64], iso[SIGIL_TIME_LEN + 1];
	int err;

	(void)v;
	if (c->nsteps == 0)
		return 0;
	if ((err = wrap(out, "<section class=\"card\" id=\"trace\"><h2>",
	    texts[TX_TRACE_H][lang], "</h2><ol class=\"trace\">")) != 0)
		return err;
	for (size_t i = 0; i < c->nsteps; i++) {
		const struct page_step *s = &c->steps[i];

		if (s->kind < PAGE_STEP_MADE || s->kind > PAGE_STEP_RECEIVED)
			continue;
		when(s->at, lang, t, sizeof t);
		sigil_time_format(s->at, iso);
		if ((err = wrap(out, "<li><b>", texts[names[s->kind]][lang],
		    "</b> ")) != 0 ||
		    (err = wrap(out, "<time datetime=\"", iso, "\">")) != 0 ||
		    (err = wrap(out, "", t, "</time>")) != 0)
			return err;
		if (present(s->distributor) && (err = wrap(out,
		    "<span class=\"dist\">", s->distributor, "</span>")) != 0)
			return err;
		if ((err = add(out, "</li>")) != 0)
			return err;
	}
	if (v->preview && (err = wrap(out, "</ol><p class=\"muted\">",
	    texts[TX_PREVIEW][lang], "</p></section>\n")) != 0)
		return err;
	return v->preview ? 0 : add(out, "</ol></section>\n");
}

static int
block_support(const struct page_view *v, const struct page_content *c,
    int lang, struct evbuffer *out)
{
	char tel[64];
	int err;

	(void)v;
	if (!present(c->support_phone) && !present(c->support_url))
		return 0;
	if ((err = wrap(out, "<section class=\"card\" id=\"support\"><h2>",
	    texts[TX_SUPPORT_H][lang], "</h2>")) != 0)
		return err;
	if (present(c->support_phone)) {
		size_t j = 0;

		/* tel: takes the digits (and a leading +) only. */
		j = (size_t)snprintf(tel, sizeof tel, "tel:");
		for (const char *p = c->support_phone; *p && j + 1 < sizeof tel;
		    p++)
			if ((*p >= '0' && *p <= '9') || (*p == '+' &&
			    p == c->support_phone))
				tel[j++] = *p;
		tel[j] = '\0';
		if ((err = wrap(out, "<a class=\"btn\" id=\"support-phone\" "
		    "href=\"", tel, "\">")) != 0 ||
		    (err = wrap(out, "", texts[TX_CALL][lang], " ")) != 0 ||
		    (err = wrap(out, "", c->support_phone, "</a>")) != 0)
			return err;
	}
	if (present(c->support_url) && ((err = wrap(out, "<a class=\"btn\" "
	    "id=\"support-link\" rel=\"noopener noreferrer\" href=\"",
	    c->support_url, "\">")) != 0 || (err = wrap(out, "",
	    texts[TX_SUPPORT_LINK][lang], "</a>")) != 0))
		return err;
	return add(out, "</section>\n");
}

int
page_content_block(const struct page_view *v, int lang, int which,
    struct evbuffer *out)
{
	const struct page_content *c = v->content;

	if (c == NULL)
		return 0;
	switch (which) {
	case PAGE_BLOCK_BRAND:	return block_brand(v, c, lang, out);
	case PAGE_BLOCK_STORY:	return block_story(v, c, lang, out);
	case PAGE_BLOCK_TRACE:	return block_trace(v, c, lang, out);
	case PAGE_BLOCK_SUPPORT: return block_support(v, c, lang, out);
	}
	return 0;
}
