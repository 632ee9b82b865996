package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatepost/gatepost/hub/operators"
)

func newUsersCommand(data *hubData, stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "users",
		Short: "Manage the operators who sign in to the console",
		Long: "Accounts live in <data>/console.db, passwords as argon2id hashes. Operators read entries and\n" +
			"handle alerts; admins also reveal masked personal details and read the audit log.\n" +
			"Without --password-stdin a random password is made and printed once.",
	}
	cmd.AddCommand(newUsersAddCommand(data, stdout), newUsersListCommand(data, stdout), newUsersDisableCommand(data, stdout),
		newUsersPasswdCommand(data, stdout), newUsersRoleCommand(data, stdout))
	return cmd
}

// password is --password-stdin: the first line of standard input, or
// else a new random password (made true: print it once).
type password struct{ fromStdin bool }

func (p *password) register(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&p.fromStdin, "password-stdin", false, "read the password from the first line of standard input")
}

func (p *password) read(cmd *cobra.Command) (pw string, made bool, err error) {
	if !p.fromStdin {
		pw, err := operators.NewPassword()
		return pw, true, err
	}
	line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", false, fmt.Errorf("read the password: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), false, nil
}

func newUsersAddCommand(data *hubData, stdout io.Writer) *cobra.Command {
	var stdinFlag password
	var admin bool
	add := &cobra.Command{
		Use:   "add NAME",
		Short: "Create an account (--admin for an admin)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, made, err := stdinFlag.read(cmd)
			if err != nil {
				return err
			}
			return data.withOperators(cmd, func(s *operators.Store) error {
				if err := s.AddUser(cmd.Context(), args[0], pw, admin); err != nil {
					return err
				}
				role := operators.User{Name: args[0], Admin: admin}.Role()
				s.Audit(cmd.Context(), "(command line)", "user_add", args[0]+" role="+role)
				fmt.Fprintf(stdout, "added %s (%s)\n", args[0], role)
				if made {
					fmt.Fprintf(stdout, "password: %s\n", pw)
				}
				return nil
			})
		},
	}
	add.Flags().BoolVar(&admin, "admin", false, "make the account an admin")
	stdinFlag.register(add)
	return add
}

func newUsersPasswdCommand(data *hubData, stdout io.Writer) *cobra.Command {
	var stdinFlag password
	passwd := &cobra.Command{
		Use:   "passwd NAME",
		Short: "Set a new password; the user's sessions end",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, made, err := stdinFlag.read(cmd)
			if err != nil {
				return err
			}
			return data.withOperators(cmd, func(s *operators.Store) error {
				if err := s.SetPassword(cmd.Context(), args[0], pw); err != nil {
					return err
				}
				s.Audit(cmd.Context(), "(command line)", "user_passwd", args[0])
				fmt.Fprintf(stdout, "password of %s changed\n", args[0])
				if made {
					fmt.Fprintf(stdout, "password: %s\n", pw)
				}
				return nil
			})
		},
	}
	stdinFlag.register(passwd)
	return passwd
}

func newUsersDisableCommand(data *hubData, stdout io.Writer) *cobra.Command {
	var enable bool
	disable := &cobra.Command{
		Use:   "disable NAME",
		Short: "Stop an account from signing in; its sessions end (--enable to undo)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return data.withOperators(cmd, func(s *operators.Store) error {
				if err := s.SetDisabled(cmd.Context(), args[0], !enable); err != nil {
					return err
				}
				action := map[bool]string{true: "enabled", false: "disabled"}[enable]
				s.Audit(cmd.Context(), "(command line)", "user_"+action, args[0])
				fmt.Fprintf(stdout, "%s %s\n", action, args[0])
				return nil
			})
		},
	}
	disable.Flags().BoolVar(&enable, "enable", false, "enable the account again")
	return disable
}

func newUsersRoleCommand(data *hubData, stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:     "role NAME admin|operator",
		Short:   "Make an account an admin or an operator; its sessions end",
		Example: "  hub users role li admin",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, r := args[0], args[1]
			if r != "admin" && r != "operator" {
				return fmt.Errorf("role must be admin or operator, got %q", r)
			}
			return data.withOperators(cmd, func(s *operators.Store) error {
				if err := s.SetAdmin(cmd.Context(), name, r == "admin"); err != nil {
					return err
				}
				s.Audit(cmd.Context(), "(command line)", "user_role", name+" role="+r)
				fmt.Fprintf(stdout, "%s is now %s\n", name, map[bool]string{true: "an admin", false: "an operator"}[r == "admin"])
				return nil
			})
		},
	}
}

func newUsersListCommand(data *hubData, stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List accounts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return data.withOperators(cmd, func(s *operators.Store) error {
				users, err := s.Users(cmd.Context())
				if err != nil {
					return err
				}
				return listing{}.print(stdout, users, func(tw io.Writer) { usersTable(tw, users) })
			})
		},
	}
}

func usersTable(tw io.Writer, users []operators.User) {
	fmt.Fprintln(tw, "NAME\tROLE\tSTATE")
	for _, u := range users {
		state := "active"
		if u.Disabled {
			state = "disabled"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", u.Name, u.Role(), state)
	}
}
