#!/usr/bin/env bash
# Regenerates the supplementary training names (<Language>.txt here) from the family-name lists of faker-js.
# Needs node and npm; the .txt files are committed, so training never runs this.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version=10.6.0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "@faker-js/faker@$version" >/dev/null && tar xzf faker-js-faker-$version.tgz)
cp "$work/package/LICENSE" "$here/LICENSE.faker"
node --input-type=module - "$work/package/dist/index.js" "$here" <<'JS'
const [modulePath, out] = process.argv.slice(2);
const faker = await import(modulePath);
const fs = await import('node:fs');
// Data-set language → faker locales whose family names belong to it. English and Irish are left out: faker's en_IE
// reuses the en list, an American mix of every origin. Japanese, Korean, Chinese and Arabic lists are in scripts the
// service does not romanise; Russian is left out as the data set already holds thousands of its names.
const locales = {
  Czech: ['cs_CZ'], Dutch: ['nl', 'nl_BE'], French: ['fr', 'fr_BE', 'fr_CH'], German: ['de', 'de_AT', 'de_CH'],
  Greek: ['el'], Italian: ['it'], Polish: ['pl'], Portuguese: ['pt_PT', 'pt_BR'], Spanish: ['es', 'es_MX'], Vietnamese: ['vi'],
};
// The data set spells these languages without diacritics, so their names are kept only without them; the others keep
// both spellings, as people type both.
const withoutMarksOnly = new Set(['Czech', 'Vietnamese']);
const withoutMarks = name => name.normalize('NFD').replace(/\p{Mn}/gu, '').normalize('NFC');
for (const [language, sources] of Object.entries(locales)) {
  const names = new Set();
  for (const locale of sources) {
    const lists = faker['faker' + locale.toUpperCase()].rawDefinitions.person.last_name;
    for (const name of (Array.isArray(lists) ? lists : Object.values(lists).flat())) {
      if (typeof name !== 'string' || name.includes('{')) continue;
      if (!withoutMarksOnly.has(language)) names.add(name);
      names.add(withoutMarks(name));
    }
  }
  fs.writeFileSync(`${out}/${language}.txt`, [...names].sort().join('\n') + '\n');
  console.log(`${language}: ${names.size}`);
}
JS
