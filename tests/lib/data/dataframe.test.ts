import { toDataFrame } from '../../../lib/data/dataframe';
import { syntheticImages } from '../../helpers/fixtures';

describe('DataFrame for exploration', () => {
  it('has the course columns and the requested rows', () => {
    const frame = toDataFrame(syntheticImages(12), 5);
    expect(frame.shape).toEqual([5, 785]);
    expect(frame.columns[0]).toBe('label');
    expect(frame.columns[784]).toBe('pixel784');
    const first = frame.head(2).values as number[][];
    expect(first[1][0]).toBe(1);
    expect(first[1][1]).toBe(7);
  });
});
