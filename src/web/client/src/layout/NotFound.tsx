import { Link } from 'react-router';
import { Empty } from '../ui/components';

export function NotFound() {
  return (
    <Empty title="There is no page here.">
      <Link to="/">Back to the start</Link>
    </Empty>
  );
}
