// `node --import ./scripts/mutation/register-hooks.mjs <test file>`: installs hooks.mjs (see there).
import { register } from 'node:module';

register('./hooks.mjs', import.meta.url);
