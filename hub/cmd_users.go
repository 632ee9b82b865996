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
		Long: "Accounts live in <data>/hub.db, passwords as argon2id hashes. Operators read entries and\n" +
			"handle alerts, of every compound or of those `hub users scope` gives them; admins see every\n" +
			"compound, reveal masked personal details and read the audit log. A building lead\n" +
			"(--role building-lead) sees and updates its buildings' home observation and their day map.\n" +
			"Without --password-stdin a random password is made and printed once.",
	}
	cmd.AddCommand(newUsersAddCommand(data, stdout), newUsersListCommand(data, stdout), newUsersDisableCommand(data, stdout),
		newUsersPasswdCommand(data, stdout), newUsersRoleCommand(data, stdout), newUsersScopeCommand(data, stdout))
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
	var role, site, buildings string
	add := &cobra.Command{
		Use:     "add NAME",
		Short:   "Create an account (--admin for an admin, --role building-lead --site S --buildings 3,5 for a building lead)",
		Example: "  hub users add wang --admin\n  hub users add zhao --role building-lead --site huamu-1 --buildings 3,5",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if admin {
				role = "admin"
			}
			lead := role == operators.RoleBuildingLead
			if role != "admin" && role != "operator" && !lead {
				return fmt.Errorf("--role must be admin, operator or %s, got %q", operators.RoleBuildingLead, role)
			}
			if !lead && (site != "" || buildings != "") {
				return fmt.Errorf("--site and --buildings are for --role %s only", operators.RoleBuildingLead)
			}
			pw, made, err := stdinFlag.read(cmd)
			if err != nil {
				return err
			}
			return data.withOperators(cmd, func(s *operators.Store) error {
				detail := args[0] + " role=" + role
				if lead {
					list := operators.CleanList(buildings)
					err = s.AddLead(cmd.Context(), args[0], pw, site, list)
					detail += " site=" + site + " buildings=" + strings.Join(list, ",")
				} else {
					err = s.AddUser(cmd.Context(), args[0], pw, role == "admin")
				}
				if err != nil {
					return err
				}
				s.Audit(cmd.Context(), "(command line)", "user_add", detail)
				fmt.Fprintf(stdout, "added %s (%s)\n", args[0], role)
				if made {
					fmt.Fprintf(stdout, "password: %s\n", pw)
				}
				return nil
			})
		},
	}
	add.Flags().BoolVar(&admin, "admin", false, "make the account an admin (as --role admin)")
	add.Flags().StringVar(&role, "role", "operator", "admin, operator or building-lead")
	add.Flags().StringVar(&site, "site", "", "a building lead's compound")
	add.Flags().StringVar(&buildings, "buildings", "", "a building lead's buildings, comma-separated (3,5)")
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
	fmt.Fprintln(tw, "NAME\tROLE\tSTATE\tSCOPE")
	for _, u := range users {
		state := "active"
		if u.Disabled {
			state = "disabled"
		}
		scope := "all"
		if !u.AllSites() {
			scope = strings.Join(u.Sites, ",")
			if u.Lead {
				scope += " buildings " + strings.Join(u.Buildings, ",")
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Name, u.Role(), state, scope)
	}
}

func newUsersScopeCommand(data *hubData, stdout io.Writer) *cobra.Command {
	var sites, buildings string
	var all bool
	scope := &cobra.Command{
		Use:   "scope NAME (--sites a,b | --all | --sites S --buildings 3,5)",
		Short: "Limit an operator to some compounds (--all: every compound again), or change a building lead's buildings; their sessions end",
		Example: "  hub users scope li --sites huamu-1,huamu-2\n  hub users scope li --all\n" +
			"  hub users scope zhao --sites huamu-1 --buildings 3,5,7",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			list := operators.CleanList(sites)
			if all == (len(list) > 0) {
				return errors.New("say --sites a,b (the compounds' ids) or --all, one of them")
			}
			if buildings != "" {
				return setLeadScope(cmd, data, stdout, args[0], list, operators.CleanList(buildings))
			}
			return data.withOperators(cmd, func(s *operators.Store) error {
				if err := s.SetScope(cmd.Context(), args[0], list); err != nil {
					return err
				}
				text, detail := "every compound", "all"
				if !all {
					text, detail = strings.Join(list, ", "), strings.Join(list, ",")
				}
				s.Audit(cmd.Context(), "(command line)", "user_scope", args[0]+" sites="+detail)
				fmt.Fprintf(stdout, "%s now sees %s\n", args[0], text)
				return nil
			})
		},
	}
	scope.Flags().StringVar(&sites, "sites", "", "the compounds' ids, comma-separated")
	scope.Flags().BoolVar(&all, "all", false, "let the operator see every compound")
	scope.Flags().StringVar(&buildings, "buildings", "", "a building lead's buildings, comma-separated, in the one compound --sites names")
	return scope
}

// setLeadScope gives the building lead name the buildings of one site.
// Only an account that is a building lead already takes buildings: the
// role changes with `hub users add --role`, not as a side effect here.
func setLeadScope(cmd *cobra.Command, data *hubData, stdout io.Writer, name string, sites, buildings []string) error {
	if len(sites) != 1 {
		return fmt.Errorf("a building lead serves one compound: say --sites S with --buildings, got %d compounds", len(sites))
	}
	return data.withOperators(cmd, func(s *operators.Store) error {
		u, err := s.User(cmd.Context(), name)
		if err != nil {
			return err
		}
		if !u.Lead {
			return fmt.Errorf("%s is not a building lead: --buildings is for building leads (hub users add --role %s)", name, operators.RoleBuildingLead)
		}
		if err := s.SetLead(cmd.Context(), name, sites[0], buildings); err != nil {
			return err
		}
		s.Audit(cmd.Context(), "(command line)", "user_lead", name+" site="+sites[0]+" buildings="+strings.Join(buildings, ","))
		fmt.Fprintf(stdout, "%s now sees buildings %s of %s\n", name, strings.Join(buildings, ", "), sites[0])
		return nil
	})
}
