"""What the pages share: forms with CSRF, error answers, moment(), assets, sessions."""
