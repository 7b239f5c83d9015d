#!/usr/bin/env node
/*
 * editor.js - the dashboard's content editor in Debian's headless
 * Chromium, as a brand admin uses it: pick a product, write a story in
 * zh-CN and English, upload an image, add a button, set the brand's
 * name, watch the 390x844 preview follow the typing, see a server error
 * next to its field in the dashboard's language, save; add, edit and
 * delete links and redirect rules; then scan a real code through the
 * consumer page and find the saved content; last, an analyst sees it all
 * read-only.
 *
 *   node tests/browser/editor.js BASE_URL ADMIN_EMAIL ANALYST_EMAIL SKU
 *       ZH_CODE_PATH EN_CODE_PATH OUTDIR
 *
 * Environment: SIGIL_TEST_PASSWORD (both users), SIGIL_TEST_IMAGE (a PNG
 * file), SIGIL_TEST_FAKE_IMAGE (an SVG with script, named .png),
 * SIGIL_TEST_BATCH2 (a second batch of SKU, given its own title).
 * Prints one line per step ("ok ..."/"FAIL ...") and, last, one line of
 * JSON: {"failures": n, "dialogs": [...], "console_errors": [...],
 * "external_requests": [...], "shots": [...], "preview_requests": n,
 * "keystrokes": n, "image": id, "links": [...], "rules": [...]}.
 * Exit status 0 when every step passed, 1 otherwise, 2 on bad usage.
 */
'use strict';

const { check, dashboard, finish, launch, run, shooter, watch } =
    require('./lib');

const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 ' +
    '(KHTML, like Gecko) Chrome/120.0 Safari/537.36';
const HOSTILE = '<img src=x onerror=alert(1)>';

const ZH_TITLE = '珍藏干红 2024';
const ZH_STORY = '我们的葡萄来自宁夏贺兰山东麓。\n\n每一瓶都经过十八个月橡木桶陈酿。';
const EN_TITLE = 'Reserve Red 2024';
const EN_STORY = 'Our grapes grow on the eastern slopes of the Helan ' +
    'Mountains.\n\nEvery bottle spends eighteen months in oak ' + HOSTILE;
const BRAND_ZH = '贺兰酒庄';
const BRAND_EN = 'Helan Winery';

async function main(argv) {
	if (argv.length !== 7) {
		process.stderr.write('usage: node editor.js BASE ADMIN ANALYST SKU ' +
		    'ZH_CODE_PATH EN_CODE_PATH OUTDIR\n');
		process.exit(2);
	}
	const [base, admin, analyst, sku, zhPath, enPath, outdir] = argv;
	const origin = new URL(base).origin;
	const facts = { dialogs: [], console_errors: [], external_requests: [],
	    shots: [], preview_requests: 0, keystrokes: 0, links: [], rules: [] };

	const browser = await launch();
	/* 401 after logout; 415 and 422 are the refusals this test
	 * provokes (an SVG upload, bad addresses and times). */
	const watchPage = (page) => {
		watch(page, facts, { allow: [401, 415, 422], origin });
		page.on('request', (r) => {
			if (r.url().endsWith('/api/v1/preview'))
				facts.preview_requests++;
		});
	};
	try {
		const context = await browser.newContext({
			viewport: { width: 1360, height: 1000 }, locale: 'zh-CN',
			timezoneId: 'Asia/Shanghai', userAgent: UA });
		// Nothing leaves loopback, whatever a page links to.
		await context.route((u) => !u.href.startsWith(origin) &&
		    /^https?:/.test(u.href), (r) => r.abort());
		const page = await context.newPage();
		watchPage(page);
		const shot = shooter(page, facts, outdir, 'editor-', { wait: 200 });
		const frameText = () => page.evaluate(() => {
			const d = document.getElementById('ed-preview').contentDocument;
			return d && d.body ? d.body.textContent : '';
		});
		/* The preview holds every one of texts (after the debounce). */
		const previewHas = async (texts, what) => {
			try {
				await page.waitForFunction((xs) => {
					const f = document.getElementById('ed-preview');
					const d = f && f.contentDocument;
					const txt = d && d.body ? d.body.textContent : '';
					return f.dataset.state === 'ready' &&
					    xs.every((x) => txt.includes(x));
				}, texts, { timeout: 10000 });
				return check(true, what);
			} catch (e) {
				return check(false, what + ' (preview: ' +
				    (await frameText()).replace(/\s+/g, ' ').slice(0, 300) + ')');
			}
		};
		const { login } = dashboard(page, base);

		/* ---- a brand admin ---- */
		await login(admin);
		await page.click('nav#nav a[data-group=marketing]');
		await page.waitForSelector('nav#subnav a[data-page=editor]');
		check(/内容编辑/.test(await page.textContent('nav#subnav')),
		    'the marketing group has the editor (内容编辑)');
		await page.click('nav#subnav a[data-page=editor]');
		await page.waitForSelector('#ed-product', { timeout: 10000 });
		const options = await page.$$eval('#ed-product option',
		    (os) => os.map((o) => o.value));
		check(options.includes(sku), 'the product picker lists ' + sku +
		    ': ' + JSON.stringify(options));
		if (await page.inputValue('#ed-product') !== sku) {
			await page.selectOption('#ed-product', sku);
			await page.waitForFunction((s) => location.hash.includes(
			    'sku=' + s), sku);
		}
		await page.waitForSelector('#ed-title', { timeout: 10000 });
		const fr = await (await page.$('#ed-preview')).contentFrame();
		const sandbox = await page.getAttribute('#ed-preview', 'sandbox');
		check(sandbox !== null && !/allow-scripts/.test(sandbox),
		    'the preview frame is sandboxed without allow-scripts: ' + sandbox);
		const size = await page.$eval('#ed-preview', (f) => {
			const r = f.getBoundingClientRect();
			return [r.width, r.height];
		});
		check(size[0] === 390 && size[1] === 844, 'the preview is 390x844: ' +
		    JSON.stringify(size));
		await page.waitForFunction(() => document.getElementById('ed-preview')
		    .dataset.state === 'ready', null, { timeout: 10000 });
		check(true, 'the preview shows the page before any change');

		/* zh-CN: brand name, title, story typed key by key. */
		await page.fill('#ed-brand-display-name', BRAND_ZH);
		await page.fill('#ed-title', ZH_TITLE);
		const before = facts.preview_requests;
		await page.click('#ed-story');
		await page.keyboard.type(ZH_STORY, { delay: 15 });
		facts.keystrokes = ZH_STORY.length;
		await previewHas([ZH_TITLE, '贺兰山东麓', '橡木桶陈酿'],
		    'the zh-CN preview follows the typing: title, story');
		const typedRequests = facts.preview_requests - before;
		check(typedRequests >= 1 && typedRequests < ZH_STORY.length / 2,
		    `the preview is debounced: ${typedRequests} requests for ` +
		    `${ZH_STORY.length} keystrokes`);
		check(await page.$eval('#ed-preview', (f) =>
		    f.contentDocument.documentElement.lang) === 'zh-CN' &&
		    await fr.evaluate(() => document.querySelectorAll('p').length) >= 2,
		    'the preview is the zh-CN page, the story in paragraphs');
		check(await fr.evaluate(() => getComputedStyle(document.body)
		    .backgroundColor) !== 'rgba(0, 0, 0, 0)',
		    'the preview carries the page\'s own styles');

		/* An image: an SVG called .png is refused, a PNG is uploaded. */
		await page.setInputFiles('#ed-image-upload',
		    process.env.SIGIL_TEST_FAKE_IMAGE);
		await page.waitForFunction(() => /只支持/.test((document.querySelector(
		    '#ed-images .field-error') || {}).textContent || ''), null,
		    { timeout: 10000 }).then(() => check(true, 'an SVG named .png ' +
		    'is refused, the reason in Chinese beside the upload'), () =>
		    check(false, 'an SVG named .png is refused with a Chinese reason'));
		await page.setInputFiles('#ed-image-upload', process.env.SIGIL_TEST_IMAGE);
		await page.waitForSelector('#ed-images img.thumb', { timeout: 10000 });
		facts.image = await page.$eval('#ed-images img.thumb',
		    (i) => i.getAttribute('src').replace('/i/', ''));
		await page.waitForFunction((id) => {
			const d = document.getElementById('ed-preview').contentDocument;
			const img = d && d.querySelector('img[src$="/i/' + id + '"]');
			return img && img.complete && img.naturalWidth > 0;
		}, facts.image, { timeout: 10000 }).then(() => check(true,
		    'the uploaded image shows in the preview'), () => check(false,
		    'the uploaded image shows in the preview'));

		/* A button with a bad address: the server's error at the field. */
		await page.click('#ed-add-button');
		await page.fill('#ed-buttons .btn-row:last-of-type .btn-label', '官方商城');
		await page.fill('#ed-buttons .btn-row:last-of-type input.btn-href',
		    'javascript:alert(1)');
		await page.click('#ed-save');
		const err = await page.waitForSelector('#ed-buttons .field-error',
		    { timeout: 10000 }).catch(() => null);
		const errText = err ? await err.textContent() : '';
		check(err && /网址|https/.test(errText) && !/must|invalid/i.test(errText),
		    'a javascript: button is refused; the reason, in Chinese, is next ' +
		    'to the button: ' + errText);
		await shot('error-zh');
		await page.fill('#ed-buttons .btn-row:last-of-type input.btn-href',
		    'https://shop.acme.example/x1');
		await previewHas(['官方商城'], 'the button shows in the preview');

		/* English. */
		await page.click('#ed-langs [data-lang=en]');
		await page.waitForSelector('#ed-title');
		check(await page.inputValue('#ed-title') === '',
		    'the English form is its own (empty title)');
		await page.fill('#ed-brand-display-name', BRAND_EN);
		await page.fill('#ed-title', EN_TITLE);
		await page.fill('#ed-story', EN_STORY);
		/* The same image, chosen from those uploaded (in-page dialog). */
		await page.click('#ed-images .img-pick button');
		await page.waitForSelector('#modal:not([hidden]) .img-choice');
		await page.click('#modal .img-choice');
		await page.click('#modal-ok');
		await page.waitForSelector('#ed-images img.thumb');
		await previewHas([EN_TITLE, 'Helan Mountains', HOSTILE],
		    'the English preview shows the English draft, the hostile text as text');
		check(await page.$eval('#ed-preview', (f) =>
		    f.contentDocument.documentElement.lang) === 'en' &&
		    await fr.evaluate(() => document.querySelectorAll(
		    'img[src="x"]').length) === 0,
		    'the preview switched to English; no element made from the story');

		/* Save. */
		await page.click('#ed-save');
		await page.waitForFunction(() => /已保存/.test(document
		    .getElementById('ed-status').textContent), null, { timeout: 10000 })
		    .then(() => check(true, 'saved (已保存)'), async () => check(false,
		    'saved: ' + await page.textContent('#main')));
		await shot('content-zh');
		/* The brand's name shows once saved (the preview takes no brand draft). */
		await page.click('#pv-lang-en');
		await previewHas([BRAND_EN, EN_TITLE], 'the preview switch: English, ' +
		    'with the saved brand name');
		await shot('preview-en', '#ed-preview');
		await page.click('#pv-lang-zh-CN');
		await previewHas([BRAND_ZH, ZH_TITLE, '官方商城'], 'the preview switch: ' +
		    '中文, with the saved brand name');
		await shot('preview-zh', '#ed-preview');

		/* A batch's override: its own title, the product's story. */
		const batch2 = process.env.SIGIL_TEST_BATCH2;
		if (batch2) {
			await page.click('#ed-langs [data-lang=zh-CN]');
			await page.selectOption('#ed-target', batch2);
			await page.waitForFunction(() => document.getElementById(
			    'ed-title').placeholder !== '', null, { timeout: 10000 });
			check(await page.inputValue('#ed-title') === '' &&
			    await page.getAttribute('#ed-title', 'placeholder') === ZH_TITLE,
			    'a batch starts empty, the product\'s title shown as its default');
			await page.fill('#ed-title', '珍藏干红 2024 · 限量批次');
			await previewHas(['限量批次', '贺兰山东麓'], 'the preview shows ' +
			    'the batch\'s title over the product\'s story');
			await page.click('#ed-save');
			await page.waitForFunction(() => /已保存/.test(document
			    .getElementById('ed-status').textContent), null,
			    { timeout: 10000 }).then(() => check(true, 'the batch ' +
			    'override is saved'), () => check(false, 'batch saved'));
			await page.selectOption('#ed-target', '0');
			await page.waitForFunction((x) => document.getElementById(
			    'ed-title').value === x, ZH_TITLE, { timeout: 10000 })
			    .then(() => check(true, 'back to the product\'s own content'),
			    () => check(false, 'back to the product'));
		}

		/* Unsaved work is not lost by a click elsewhere. */
		const savedTitle = await page.inputValue('#ed-title');
		await page.fill('#ed-title', 'unsaved 未保存');
		await page.click('nav#nav a[data-group=overview]');
		await page.waitForSelector('#modal:not([hidden])');
		await page.click('#modal-cancel');
		check(await page.inputValue('#ed-title') === 'unsaved 未保存' &&
		    /#\/editor/.test(await page.evaluate(() => location.hash)),
		    'leaving with unsaved changes asks first; "cancel" stays with them');
		await page.click('#ed-discard');
		await page.waitForSelector('#modal:not([hidden])');
		await page.click('#modal-ok');
		await page.waitForFunction((x) => document.getElementById('ed-title')
		    .value === x, savedTitle).then(() => check(true, '"discard" ' +
		    'goes back to what is saved'), () => check(false, 'discard'));

		/* ---- links ---- */
		await page.click('#ed-tab-links');
		await page.waitForSelector('#ed-new-link', { timeout: 10000 });
		const addLink = async (type, title, href, extra) => {
			await page.click('#ed-new-link');
			await page.waitForSelector('#ed-link-form');
			await page.selectOption('#ed-link-type', type);
			await page.fill('#ed-link-title', title);
			await page.fill('#ed-link-href', href);
			if (extra)
				await extra();
			await page.click('#ed-link-form button[type=submit]');
		};
		await addLink('gs1:promotion', '双十二', 'ftp://promo.acme.example/');
		const lerr = await page.waitForSelector('#ed-link-form .field-error',
		    { timeout: 10000 }).catch(() => null);
		const lerrText = lerr ? await lerr.textContent() : '';
		const at = lerr ? await lerr.evaluate((e) =>
		    e.previousElementSibling && e.previousElementSibling.id) : null;
		check(at === 'ed-link-href' && /http/.test(lerrText),
		    `an ftp: link is refused next to its address (${at}): ${lerrText}`);
		await page.fill('#ed-link-href', 'https://promo.acme.example/1212');
		await page.check('#ed-link-hreflang input[value="zh-CN"]');
		await page.click('#ed-link-form button[type=submit]');
		await page.waitForFunction(() => !document.getElementById('ed-link-form') &&
		    /双十二/.test((document.getElementById('ed-links') || {})
		    .textContent || ''), null, { timeout: 10000 })
		    .then(() => check(true, 'a promotion link is added and listed'),
		    () => check(false, 'a promotion link is added and listed'));
		await addLink('gs1:recipeInfo', 'Recipes', 'https://acme.example/r',
		    () => page.check('#ed-link-default'));
		await page.waitForFunction(() => /Recipes/.test((document
		    .getElementById('ed-links') || {}).textContent || ''), null,
		    { timeout: 10000 }).catch(() => {});
		/* A second default at the same level: the form says which goes. */
		await page.click('#ed-new-link');
		await page.waitForSelector('#ed-link-form');
		await page.check('#ed-link-default');
		check(/Recipes/.test(await page.textContent('#ed-link-hint')),
		    'a new default link names the default it replaces: ' +
		    await page.textContent('#ed-link-hint'));
		await page.click('#ed-link-form button[type=button]');
		await page.waitForFunction(() => /Recipes/.test((document
		    .getElementById('ed-links') || {}).textContent || ''), null,
		    { timeout: 10000 }).catch(() => {});
		await page.waitForFunction(() => /Recipes/.test((document
		    .getElementById('pv-away') || {}).textContent || ''), null,
		    { timeout: 10000 }).then(() => check(true, 'with a default ' +
		    'link the preview warns that genuine scans go there'), () =>
		    check(false, 'the preview warns of the default link'));
		/* Edit the recipe link, then delete it. */
		let row = page.locator('#ed-links tr', { hasText: 'Recipes' });
		await row.locator('.ed-edit').click();
		await page.waitForSelector('#ed-link-form');
		check(await page.isChecked('#ed-link-default'),
		    'the edit form shows the default flag');
		await page.fill('#ed-link-title', 'Recipes and pairings');
		await page.click('#ed-link-form button[type=submit]');
		await page.waitForFunction(() => /Recipes and pairings/.test((document
		    .getElementById('ed-links') || {}).textContent || ''), null,
		    { timeout: 10000 }).then(() => check(true, 'a link is edited'),
		    () => check(false, 'a link is edited'));
		await shot('links');
		row = page.locator('#ed-links tr', { hasText: 'Recipes and pairings' });
		await row.locator('.ed-delete').click();
		await page.waitForSelector('#modal:not([hidden])');
		await page.click('#modal-ok');
		await page.waitForFunction(() => !/Recipes/.test((document
		    .getElementById('ed-links') || {}).textContent || ''), null,
		    { timeout: 10000 }).then(() => check(true, 'a link is deleted ' +
		    'after an in-page confirmation'), () => check(false, 'a link is deleted'));
		await page.waitForSelector('#pv-away', { state: 'hidden',
		    timeout: 10000 }).then(() => check(true, 'without it, no ' +
		    'warning'), () => check(false, 'the warning goes with the link'));
		facts.links = await page.$$eval('#ed-links tbody tr', (rs) =>
		    rs.map((r) => r.textContent));

		/* A button to a link by its type: the promotion link just made. */
		await page.click('#ed-tab-content');
		await page.waitForSelector('#ed-add-button');
		await page.click('#ed-langs [data-lang=zh-CN]');
		await page.click('#ed-add-button');
		const last = '#ed-buttons .btn-row:last-of-type';
		await page.fill(last + ' .btn-label', '双十二活动');
		await page.selectOption(last + ' .btn-kind', 'link');
		await page.selectOption(last + ' select.btn-href', 'gs1:promotion');
		await previewHas(['双十二活动'], 'a button to the gs1:promotion link ' +
		    'shows in the preview');
		const promo = await page.evaluate(() => {
			const d = document.getElementById('ed-preview').contentDocument;
			const a = [...d.querySelectorAll('a')].find((x) =>
			    x.textContent.includes('双十二活动'));
			return a ? a.getAttribute('href') : null;
		});
		check(promo === 'https://promo.acme.example/1212', 'it goes to the ' +
		    'link\'s address: ' + promo);
		await page.click('#ed-save');
		await page.waitForFunction(() => /已保存/.test(document
		    .getElementById('ed-status').textContent), null, { timeout: 10000 })
		    .then(() => check(true, 'saved with the link button'), () =>
		    check(false, 'saved with the link button'));
		/* Another verdict: sigil's page, no marketing. */
		await page.selectOption('#pv-verdict', 'counterfeit');
		await previewHas(['假冒'], 'the preview of a counterfeit verdict');
		check(!(await frameText()).includes('贺兰山东麓'), 'a counterfeit ' +
		    'page shows none of the story');
		await shot('preview-counterfeit-zh', '#ed-preview');
		await page.selectOption('#pv-verdict', 'genuine');

		/* ---- redirect rules ---- */
		await page.click('#ed-tab-rules');
		await page.waitForSelector('#ed-new-rule', { timeout: 10000 });
		await page.click('#ed-new-rule');
		await page.waitForSelector('#ed-rule-form');
		await page.fill('#ed-rule-href', 'https://wx.acme.example/en');
		await page.check('#ed-rule-lang input[value="en"]');
		await page.selectOption('#ed-rule-wechat', 'yes');
		await page.fill('#ed-rule-from', '2026-01-01T08:00');
		await page.fill('#ed-rule-until', '2036-01-01T08:00');
		await page.fill('#ed-rule-until', '2025-01-01T08:00');
		await page.click('#ed-rule-form button[type=submit]');
		const rerr = await page.waitForSelector('#ed-rule-form .field-error',
		    { timeout: 10000 }).catch(() => null);
		check(rerr !== null, 'a date window that ends before it starts is ' +
		    'refused at a field: ' + (rerr ? await rerr.evaluate((e) =>
		    (e.previousElementSibling || {}).id + ' ' + e.textContent) : ''));
		await page.fill('#ed-rule-until', '2036-01-01T08:00');
		await page.check('#ed-rule-region input[type=checkbox]');
		await page.click('#ed-rule-form button[type=submit]');
		await page.waitForFunction(() => /wx\.acme\.example/.test((document
		    .getElementById('ed-rules') || {}).textContent || ''), null,
		    { timeout: 10000 }).then(() => check(true, 'a redirect rule is added'),
		    () => check(false, 'a redirect rule is added'));
		/* A second rule, edited, then deleted. */
		await page.click('#ed-new-rule');
		await page.fill('#ed-rule-href', 'https://acme.example/spare');
		await page.fill('#ed-rule-note', 'spare');
		await page.click('#ed-rule-form button[type=submit]');
		await page.waitForFunction(() => /spare/.test((document
		    .getElementById('ed-rules') || {}).textContent || ''), null,
		    { timeout: 10000 }).catch(() => {});
		row = page.locator('#ed-rules tr', { hasText: 'spare' });
		await row.locator('.ed-edit').click();
		await page.waitForSelector('#ed-rule-form');
		await page.fill('#ed-rule-priority', '1');
		await page.click('#ed-rule-form button[type=submit]');
		await page.waitForFunction(() => {
			const r = document.querySelector('#ed-rules tbody tr');
			return r && /spare/.test(r.textContent);
		}, null, { timeout: 10000 }).then(() => check(true, 'edited to ' +
		    'priority 1, the spare rule is listed first'), () => check(false,
		    'the edited rule moves to the top'));
		const second = await page.textContent('#ed-rules tbody tr:nth-child(2)');
		check(/永不生效：被规则覆盖 #1/.test(second), 'a rule behind one ' +
		    'without conditions is marked as never applying: ' + second);
		const ruleText = await page.textContent('#ed-rules');
		check(/2026-01-01 08:00 UTC\+8/.test(ruleText) && /在微信内/.test(ruleText),
		    'the rule reads in Chinese, its window in ISO local time with the zone');
		await shot('rules');
		row = page.locator('#ed-rules tr', { hasText: 'spare' });
		await row.locator('.ed-delete').click();
		await page.waitForSelector('#modal:not([hidden])');
		await page.click('#modal-ok');
		await page.waitForFunction(() => !/spare/.test((document
		    .getElementById('ed-rules') || {}).textContent || ''), null,
		    { timeout: 10000 }).then(() => check(true, 'a rule is deleted'),
		    () => check(false, 'a rule is deleted'));
		check(/生效中/.test(await page.textContent('#ed-rules tbody tr')) &&
		    /已删除/.test(await page.textContent('#ed-list-status')),
		    'the remaining rule is live; the list says what was done');
		facts.rules = await page.$$eval('#ed-rules tbody tr', (rs) =>
		    rs.map((r) => r.textContent));

		/* English dashboard: the same editor, English words. */
		await page.click('#lang');
		await page.waitForSelector('#ed-tab-rules');
		check(/Redirect rules/.test(await page.textContent('#main')),
		    'the editor in English');
		await page.click('#ed-tab-content');
		await page.waitForSelector('#ed-title');
		await shot('content-en');
		await page.click('#lang');

		/* ---- the real consumer page ---- */
		for (const [loc, p, want] of [['zh-CN', zhPath, [BRAND_ZH, ZH_TITLE,
		    '贺兰山东麓', '官方商城', '双十二活动']], ['en-US', enPath, [BRAND_EN, EN_TITLE,
		    'Helan Mountains', HOSTILE]]]) {
			const c = await browser.newContext({ viewport: { width: 390,
			    height: 844 }, deviceScaleFactor: 2, isMobile: true,
			    hasTouch: true, locale: loc, userAgent: UA + ' Mobile' });
			await c.route((u) => !u.href.startsWith(origin) &&
			    /^https?:/.test(u.href), (r) => r.abort());
			const s = await c.newPage();
			watchPage(s);
			const resp = await s.goto(base + p, { waitUntil: 'load' });
			const text = await s.evaluate(() => document.body.innerText);
			check(resp && resp.status() === 200 && want.every((w) =>
			    text.includes(w)), `the scanned page (${loc}) shows the ` +
			    'saved content: ' + want.filter((w) => !text.includes(w))
			    .map((w) => 'missing ' + w).join(', '));
			/* The page's images load lazily: scroll to it first. */
			const sel = `img[src$="/i/${facts.image}"]`;
			let img = -1;
			if (await s.$(sel)) {
				await s.locator(sel).first().scrollIntoViewIfNeeded();
				img = await s.waitForFunction((q) => {
					const i = document.querySelector(q);
					return i.complete && i.naturalWidth;
				}, sel, { timeout: 10000 }).then((h) => h.jsonValue(),
				    () => 0);
			}
			check(img > 0, `the scanned page (${loc}) shows the uploaded image`);
			await shooter(s, facts, outdir, 'editor-scan-')(loc);
			await c.close();
		}

		/* ---- an analyst: everything shown, nothing offered ---- */
		await page.click('#logout');
		await page.waitForSelector('#login-form');
		await login(analyst);
		await page.evaluate((s) => { location.hash = '#/editor?sku=' + s; }, sku);
		await page.waitForSelector('#ed-title', { timeout: 10000 });
		check(await page.$('#ed-readonly') !== null,
		    'the analyst is told the editor is read-only');
		check(await page.inputValue('#ed-title') === ZH_TITLE &&
		    await page.isDisabled('#ed-title') &&
		    await page.isDisabled('#ed-story'),
		    'the analyst sees the saved title, the fields disabled');
		await previewHas([ZH_TITLE], 'the analyst sees the preview');
		const offered = [];
		const look = async (tab) => {
			for (const bad of ['#ed-save', '#ed-discard', '#ed-add-button',
			    'input[type=file]', '#ed-new-link', '#ed-new-rule',
			    '.ed-edit', '.ed-delete', '#ed-delete-lang',
			    '.ed-main input:not([disabled])',
			    '.ed-main textarea:not([disabled])',
			    '.ed-main select:not([disabled]):not(#ed-target)'])
				if (await page.$(bad))
					offered.push(tab + ' ' + bad);
		};
		await look('content');
		await shot('analyst');
		for (const tab of ['links', 'rules']) {
			await page.click('#ed-tab-' + tab);
			await page.waitForSelector('#ed-' + tab + ' tbody tr',
			    { timeout: 10000 }).catch(() => {});
			await page.waitForTimeout(200);
			await look(tab);
		}
		check(await page.$('#ed-links, #ed-rules') !== null &&
		    /wx\.acme\.example/.test(await page.textContent('#main')),
		    'the analyst sees the rules');
		check(offered.length === 0, 'the analyst is offered no change: ' +
		    JSON.stringify(offered));
	} finally {
		await browser.close();
	}
	return finish(facts);
}

run('editor.js', main);
