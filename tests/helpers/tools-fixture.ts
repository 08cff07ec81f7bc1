/** Fixture for tools.test.ts (not a test file itself): one present and two missing tools. */
import { needsTool } from './tools';

needsTool(true, 'a tool that is there', 'nothing to do').it('runs when the tool is there', () => expect(1).toBe(1));
needsTool(false, 'an absent tool', 'apt-get install absent-tool').it('needs the absent tool', () => expect(1).toBe(1));
needsTool(false, 'another absent tool', 'npm run setup:absent').describe('a block needing another absent tool', () => {
  beforeAll(() => {
    throw new Error('the hooks of a block whose tool is missing must not run');
  });
  it('is not run', () => expect(1).toBe(1));
});
