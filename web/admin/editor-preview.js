/*
 * editor-preview.js - the editor's live preview (see editor.js): the
 * consumer page at 390x844 in zh-CN or English, with the unsaved draft.
 *
 * POST /api/v1/preview with the unsaved draft answers the
 * landing page's HTML. It is shown in an iframe sandboxed without
 * allow-scripts, so nothing in it ever runs. The iframe is a srcdoc
 * document and so inherits this dashboard's CSP (style-src 'self'), which
 * would refuse the page's inline <style>: the page's CSS is therefore
 * given to the frame as a constructed stylesheet and its style attributes
 * through the CSSOM, which CSP does not govern (allow-same-origin lets
 * this file reach the frame's document; with no scripts in it, the frame
 * can do nothing with that origin). Links in the preview do not navigate.
 */
'use strict';

(function () {

const A = window.sigilAdmin;
const E = window.sigilEditor;
if (!A || !E)
	return;
const { el, append, clear, t } = A;
const { LANGS, langName, body, merged, errText } = E;

/* ---- the preview ---- */

function previewPane(S) {
	const frame = document.createElement('iframe');
	/* No allow-scripts, ever: nothing in the page runs. */
	frame.setAttribute('sandbox', 'allow-same-origin');
	frame.setAttribute('referrerpolicy', 'no-referrer');
	frame.id = 'ed-preview';
	frame.title = t('ed_preview');
	frame.width = '390';
	frame.height = '844';
	frame.srcdoc = '<!DOCTYPE html><html><head><meta charset="utf-8">' +
	    '</head><body></body></html>';
	const msg = el('div', { class: 'notice error', hidden: true,
	    id: 'ed-preview-error' });
	const langs = el('div', { class: 'seg', role: 'group', id: 'pv-langs' });
	const verdict = el('select', { id: 'pv-verdict', 'aria-label': t('ed_verdict') },
	    ['genuine', 'suspicious', 'counterfeit', 'revoked', 'inactive'].map((v) =>
	    el('option', { value: v, selected: v === S.pvVerdict }, t(v))));
	const drawLangs = () => {
		clear(langs);
		for (const l of LANGS) {
			const b = el('button', { type: 'button', class: 'seg-item' +
			    (l === S.pvLang ? ' on' : ''), id: 'pv-lang-' + l }, langName(l));
			b.addEventListener('click', () => S.setPreviewLang(l));
			langs.appendChild(b);
		}
	};
	drawLangs();
	let loaded = false, timer = null, pending = false;
	const run = async () => {
		timer = null;
		if (!loaded || !S.draft) {
			pending = true;
			return;
		}
		const seq = ++S.seq;
		/*
		 * The draft is the product's content (with a batch's draft
		 * over it): the server would lay the stored batch document
		 * over the draft, so a batch's draft goes without "batch".
		 * The brand's name, logo and support show once saved: the
		 * preview takes no brand draft. An empty draft is left out:
		 * the page then shows what a consumer would (another language).
		 */
		const req = { sku: S.product.sku, lang: S.pvLang,
		    verdict: S.pvVerdict };
		/* A button still being written (no text, or a bare scheme) waits. */
		const m = merged(S, S.pvLang);
		const draft = body(Object.assign({}, m, { buttons: m.buttons.filter(
		    (b) => b.label.trim() && !/^(https?:\/\/|tel:|link:)?$/i
		    .test(b.href.trim())) }));
		if (Object.keys(draft).length)
			req.content = draft;
		frame.dataset.state = 'loading';
		try {
			const r = await fetch('/api/v1/preview', { method: 'POST',
			    credentials: 'same-origin', body: JSON.stringify(req),
			    headers: { 'Content-Type': 'application/json',
			    'Accept': 'text/html', 'X-CSRF-Token': A.me().csrf } });
			const text = await r.text();
			if (seq !== S.seq)
				return;
			if (!r.ok) {
				let e = {};
				try {
					e = JSON.parse(text).error || {};
				} catch (x) {
					e = {};
				}
				throw new A.ApiError(r.status, e.code, e.message);
			}
			render(frame, text);
			msg.hidden = true;
			if (S.onPreview && S.pvLang === S.editLang)
				S.onPreview(null);
			frame.dataset.state = 'ready';
			frame.dataset.seq = String(seq);
			frame.dataset.lang = req.lang;
		} catch (e) {
			if (seq !== S.seq)
				return;
			msg.textContent = e.status === 422 ? t('ed_preview_invalid') :
			    t('ed_preview_failed') + ': ' + (e.status === 404 &&
			    e.code === 'not_found' && !/product/.test(e.message || '') ?
			    t('ed_not_ready') : errText(e));
			msg.hidden = false;
			if (e.status === 422 && S.onPreview && S.pvLang === S.editLang)
				S.onPreview(e);
			frame.dataset.state = 'error';
		}
	};
	/*
	 * A genuine scan goes to the default link, when there is one, instead
	 * of this page (CONTRACT.md's order): say so above the preview.
	 */
	const away = el('div', { class: 'notice', hidden: true, id: 'pv-away' });
	S.refreshAway = async () => {
		let links = [];
		try {
			links = (await A.api('GET', '/api/v1/links')).links || [];
		} catch (e) {
			links = [];
		}
		/* sigild's walk up for any code of the product: its GTIN or
		 * SKU level, then the brand (batch and lot levels aside). */
		const p = S.product;
		const lv = (l) => l.serial || l.lot || l.batch ? 9 : l.gtin ?
		    (l.gtin === p.gtin ? 0 : 9) : l.sku ? (l.sku === p.sku ? 0 :
		    9) : 1;
		const d = links.filter((l) => l.default && lv(l) < 9)
		    .sort((a, b) => lv(a) - lv(b))[0];
		away.hidden = !d;
		away.textContent = d ? A.clean(t('ed_goes_away') + ' ' + d.title +
		    ' (' + d.href + ')') : '';
	};
	S.refreshAway();
	S.refreshPreview = (now) => {
		clearTimeout(timer);
		timer = setTimeout(run, now ? 0 : 350);
	};
	S.setPreviewLang = (l) => {
		S.pvLang = l;
		drawLangs();
		S.refreshPreview(true);
	};
	verdict.addEventListener('change', () => {
		S.pvVerdict = verdict.value;
		S.refreshPreview(true);
	});
	frame.addEventListener('load', () => {
		loaded = true;
		/* Links and forms in the preview go nowhere. */
		frame.contentDocument.addEventListener('click', (ev) => {
			if (ev.target.closest && ev.target.closest('a, button, form'))
				ev.preventDefault();
		}, true);
		frame.contentDocument.addEventListener('submit',
		    (ev) => ev.preventDefault(), true);
		if (pending || S.draft)
			run();
	});
	(S.ready || Promise.resolve()).then(() => S.refreshPreview(true), () => {});
	return el('aside', { class: 'ed-preview card' },
	    el('div', { class: 'toolbar' }, el('h2', {}, t('ed_preview')),
	    el('span', { class: 'spacer' }), langs, verdict),
	    el('p', { class: 'muted small' }, t('ed_preview_note')), msg, away,
	    el('div', { class: 'phone' }, frame));
}

/*
 * Puts the page's HTML into the preview frame without running or
 * inlining anything (see the top of this file): scripts and meta
 * refreshes are dropped, <style> becomes a constructed sheet, style
 * attributes go through the CSSOM.
 */
function render(frame, html) {
	const doc = frame.contentDocument;
	const win = frame.contentWindow;
	if (!doc || !win)
		return;
	let css = '';
	const h = String(html)
	    .replace(/<script\b[\s\S]*?<\/script\s*>/gi, '')
	    .replace(/<style\b[^>]*>([\s\S]*?)<\/style\s*>/gi, (m, c) => {
		css += c + '\n';
		return '';
	    })
	    .replace(/(<[A-Za-z][^<>]*?\s)style\s*=\s*(?:"([^"]*)"|'([^']*)')/g,
		(m, pre, a, b) => pre + 'data-pv-style="' +
		(a !== undefined ? a : b).replace(/"/g, '&quot;') + '"');
	const src = new DOMParser().parseFromString(h, 'text/html');
	for (const e of src.querySelectorAll('script, meta[http-equiv], base, ' +
	    'iframe, object, embed, link'))
		e.remove();
	for (const e of src.querySelectorAll('*'))
		for (const a of [...e.attributes])
			if (/^on/i.test(a.name))
				e.removeAttribute(a.name);
	const y = doc.scrollingElement ? doc.scrollingElement.scrollTop : 0;
	const root = doc.importNode(src.documentElement, true);
	doc.replaceChild(root, doc.documentElement);
	for (const e of doc.querySelectorAll('[data-pv-style]')) {
		e.style.cssText = e.getAttribute('data-pv-style');
		e.removeAttribute('data-pv-style');
	}
	try {
		const sheet = new win.CSSStyleSheet();
		sheet.replaceSync(css);
		doc.adoptedStyleSheets = [sheet];
	} catch (e) {
		doc.adoptedStyleSheets = [];
	}
	if (doc.scrollingElement)
		doc.scrollingElement.scrollTop = y;
}

E.previewPane = previewPane;

})();
