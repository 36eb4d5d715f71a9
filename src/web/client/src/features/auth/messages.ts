import { ApiError } from '../../api/http';

/** Sign-in messages in words a person understands, by the server's error code. */
export function signInMessage(error: unknown): string {
  if (!(error instanceof ApiError)) return error instanceof Error ? error.message : String(error);
  switch (error.code) {
    case 'invalid_credentials':
      return 'Wrong login or password.';
    case 'invalid_mfa_code':
      return 'That code is not valid. Enter the current 6-digit code from your authenticator app, or a recovery code.';
    case 'ip_blocked':
      return `Too many failed sign-ins from your network: sign-in is blocked for a while. ${error.message}`;
    case 'ip_not_allowed':
      return `Sign-in is not allowed from your network. ${error.message}`;
    case 'user_deactivated':
      return 'Your account is deactivated. Ask an administrator to reactivate it.';
    case 'tenant_deactivated':
      return 'This analytics instance is deactivated. Contact the platform operator.';
    case 'sso_required':
      return 'Sign in with your organisation’s single sign-on below.';
    case 'rate_limited':
      return `Too many attempts. ${error.message}`;
    default:
      return error.message;
  }
}
